"""Where the time of a round goes (services/stage_times): a heatmap of stage × province drawn on the server as SVG
(each cell coloured by the P90 of working days in the stage, its title giving P50, P90, max, the share escalated
and the on-time rate; "<3" for a group withheld from the ministry), the stages' table, returns and objections per
case, and the slowest units."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

import glossary
from api.deps import SessionDep
from domain.stage_times import SMALLEST_GROUP, TIMED_STAGES, GroupFigures, StageFigures
from domain.stages import LocalityType
from services.errors import Refusal
from services.stage_times import service
from services.stage_times.schemas import StageTimesOut
from web.i18n import Translator, lang_of
from web.pages.common import WebPrincipal, render

router = APIRouter(include_in_schema=False)

# P90 in working days → colour: (lowest, highest or None for "or more", fill, text colour)
BUCKETS = (
    (0, 2, "#e3f1e7", "#1d2733"),
    (3, 5, "#a9d5b5", "#1d2733"),
    (6, 10, "#f7d27c", "#1d2733"),
    (11, 20, "#e8894a", "#1d2733"),
    (21, None, "#a8322a", "#ffffff"),
)
NO_DATA = "#eef2f6"
LABEL_W, COL_W, ROW_H, LINE_H, WRAP = 160, 100, 34, 15, 12


@dataclass
class Cell:
    x: int
    y: int
    fill: str
    ink: str
    text: str
    title: str


@dataclass
class Heatmap:
    width: int
    height: int
    columns: list[tuple[int, list[str]]] = field(default_factory=list)  # x of the centre, the label's lines
    rows: list[tuple[int, str]] = field(default_factory=list)  # y of the baseline, the province's name
    cells: list[Cell] = field(default_factory=list)
    legend: list[tuple[int, str, str]] = field(default_factory=list)  # x, fill, label
    legend_y: int = 0
    col_w: int = COL_W


def colour(p90: int | None) -> tuple[str, str]:
    if p90 is None:
        return NO_DATA, "#5b6673"
    return next((fill, ink) for low, high, fill, ink in BUCKETS if high is None or p90 <= high)


def _cell_title(t: Translator, f: StageFigures, province: str) -> str:
    def days(n: int | None) -> str:
        return t("st_none") if n is None else str(n)

    return t(
        "st_cell",
        stage=t.stage(f.stage),
        province=province,
        p50=days(f.p50),
        p90=days(f.p90),
        max=days(f.max),
        cases=f.cases,
        escalated=glossary.percent(f.escalated_share),
        on_time=glossary.percent(f.on_time_rate),
    )


def heatmap(t: Translator, groups: tuple[GroupFigures, ...]) -> Heatmap:
    """The heatmap's layout: a row per province, a column per stage, the legend under it."""
    heads = [textwrap.wrap(t.stage(s), WRAP, break_long_words=False, break_on_hyphens=False) for s in TIMED_STAGES]
    top = 8 + LINE_H * max(len(h) for h in heads)
    width = LABEL_W + COL_W * len(TIMED_STAGES) + 8
    out = Heatmap(width=width, height=top + ROW_H * len(groups) + 70)
    out.columns = [(LABEL_W + COL_W * i + COL_W // 2, h) for i, h in enumerate(heads)]
    for r, g in enumerate(groups):
        y = top + ROW_H * r
        name = glossary.province_name(g.key)
        out.rows.append((y + ROW_H // 2 + 5, name))
        for c, stage in enumerate(TIMED_STAGES):
            f = g.stage(stage)
            if f is None:
                continue
            if f.suppressed:
                title = f"{t.stage(f.stage)} — {name}: {t('st_suppressed', n=SMALLEST_GROUP)}"
                text = t("st_suppressed_short", n=SMALLEST_GROUP)
                out.cells.append(Cell(LABEL_W + COL_W * c, y, NO_DATA, "#5b6673", text, title))
                continue
            fill, ink = colour(f.p90)
            text = t("st_none") if f.p90 is None else str(f.p90)
            out.cells.append(Cell(LABEL_W + COL_W * c, y, fill, ink, text, _cell_title(t, f, name)))
    out.legend_y = top + ROW_H * len(groups) + 36
    labels = [
        t("st_bucket", low=low, high=high) if high is not None else t("st_bucket_top", low=low)
        for low, high, _, _ in BUCKETS
    ]
    fills = [fill for _, _, fill, _ in BUCKETS] + [NO_DATA]
    labels.append(t("st_no_data"))
    out.legend = [(LABEL_W + 118 * i, fill, label) for i, (fill, label) in enumerate(zip(fills, labels, strict=True))]
    return out


def refused_page(request: Request, principal: WebPrincipal, exc: Refusal) -> HTMLResponse:
    """A refusal as a page; bad input named by its field, in the reader's language."""
    t = Translator(lang_of(request))
    name = exc.extra.get("field")
    if exc.status != 422 or name not in ("province", "locality_type"):
        return render(request, "error.html", status=exc.status, principal=principal, problem=exc)
    value = request.query_params.get(name, "")
    known = ", ".join(t.term("locality", x.value) for x in LocalityType)
    label = t("province") if name == "province" else t("st_locality")
    message = t(f"st_bad_{name}", field=label, value=value, known=known)
    return render(
        request, "error.html", status=422, principal=principal, problem=exc, headline=t("st_refused"), message=message
    )


@router.get("/web/rounds/{round_id}/stage-times", response_class=HTMLResponse)
async def stage_times_page(
    request: Request,
    round_id: str,
    principal: WebPrincipal,
    session: SessionDep,
    province: str | None = None,
    locality_type: str | None = None,
) -> HTMLResponse:
    try:
        out: StageTimesOut = await service.figures(
            session,
            principal,
            round_id,
            province=province or None,
            locality_type=locality_type or None,
            now=datetime.now(UTC),
        )
    except Refusal as exc:
        return refused_page(request, principal, exc)
    t = Translator(lang_of(request))
    if out.province:
        scope = glossary.province_name(out.province)
    else:
        scope = t("st_national") if principal.ministry else t("st_all_provinces")
    return render(
        request,
        "stage_times.html",
        principal=principal,
        out=out,
        scope=scope,
        map=heatmap(t, out.by_province),
        stages=[f for f in out.overall.stages if f.cases],
        localities=[x.value for x in LocalityType],
        withheld=any(g.suppressed for g in (out.overall, *out.by_province, *out.by_locality)),
        smallest=SMALLEST_GROUP,
    )
