"""`xptt round stage-times` (registered in cli/rounds_cmd.py): where a round's time goes, as tables in Vietnamese —
every stage overall, then by province and by locality type, the returns and objections of each group, the slowest
units — or as JSON. Figures go through the glossary's formatters, as on the page; a group withheld from the
ministry (services/stage_times/service.py) reads "ít hơn 3 lượt xét"."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

import glossary
from cli.common import console, fail, refusal_text
from cli.officials_cmd import in_process
from cli.ops import EXIT_NOT_FOUND, EXIT_USAGE
from domain.stage_times import SMALLEST_GROUP, GroupFigures
from domain.stages import LocalityType
from services.access import Principal
from services.errors import Refusal
from services.stage_times import service
from services.stage_times.schemas import StageTimesOut
from web.i18n import Translator

T = Translator("vi")  # the tables speak Vietnamese (web/i18n.py)
FIGURES = ("st_cases", "st_p50", "st_p90", "st_max", "st_open", "st_escalated", "st_on_time")


def stage_times_cmd(
    round_id: str = typer.Option(..., "--round", help="round id, e.g. qd06-2019:2027"),
    province: str | None = typer.Option(None, help="two-digit province code (default: the national view)"),
    locality_type: str | None = typer.Option(
        None, "--locality-type", help="central-city-ward, mountain-island-disadvantaged or other (default: all)"
    ),
    top: int = typer.Option(service.TOP_DEFAULT, help="how many of the slowest units to list (0 to 100)"),
    format: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Where the round's time goes: time in each stage (median, P90, max in working days), escalations, returns,
    objections and on-time rates, overall, by province and by locality type, and the slowest units; from the
    journal (docs/stage-times.md). With --province as the province's administrator reads it; without, the national
    view as the ministry reads it (no unit listed, groups of fewer than 3 cases withheld)."""
    if format not in ("table", "json"):
        fail(T("cli_format", value=format, choices="table, json"), EXIT_USAGE)
    out = _figures(round_id, province, locality_type, top)
    if format == "json":
        sys.stdout.write(out.model_dump_json(indent=2) + "\n")
        return
    print_stage_times(out)


def _figures(round_id: str, province: str | None, locality: str | None, top: int) -> StageTimesOut:
    """The figures as the operator reads them (the province's administrator, or the ministry); a refusal ends the
    command naming its option (exit 3 for an unknown round, else 2)."""
    options = {
        "province": ("--province", province),
        "locality_type": ("--locality-type", locality),
        "top": ("--top", top),
    }

    async def attempt(session: AsyncSession, reader: Principal) -> StageTimesOut | Refusal:
        try:
            return await service.figures(
                session, reader, round_id, province=province, locality_type=locality, top=top, now=datetime.now(UTC)
            )
        except Refusal as exc:
            return exc

    got = in_process(attempt, province=province, ministry=province is None)
    if not isinstance(got, Refusal):
        return got
    name = got.extra.get("field")
    if name not in options:
        fail(escape(refusal_text(got)), EXIT_NOT_FOUND if got.status == 404 else EXIT_USAGE)
    known = ", ".join(x.value for x in LocalityType)
    flag, value = options[name]
    fail(escape(T(f"st_bad_{name}", field=flag, value=value, known=known, max=service.TOP_MAX)), EXIT_USAGE)


def stage_rows(g: GroupFigures) -> list[list[str]]:
    """The group's rows (stage, then FIGURES): one per stage some case visited; a withheld group one row saying so,
    with its number of cases."""
    none = glossary.decimal(None)
    if g.suppressed:
        return [[T("st_suppressed", n=SMALLEST_GROUP), str(g.cases), *[none] * (len(FIGURES) - 1)]]
    return [
        [
            T.stage(f.stage),
            str(f.cases),
            glossary.decimal(f.p50),
            glossary.decimal(f.p90),
            glossary.decimal(f.max),
            glossary.decimal(f.open_stays),
            glossary.percent(f.escalated_share),
            glossary.percent(f.on_time_rate),
        ]
        for f in g.stages
        if f.cases
    ]


def group_name(g: GroupFigures) -> str:
    """A province's name, a locality type's, or "all" in words."""
    if g.key == "all":
        return T("st_overall")
    if g.key in {x.value for x in LocalityType}:
        return T.term("locality", g.key)
    return glossary.province_name(g.key)


def _figure_columns(table: Table) -> None:
    table.add_column(T("stage"))
    for key in FIGURES:
        table.add_column(T(key), justify="right")


def _groups_table(title: str, groups: tuple[GroupFigures, ...], head: str) -> Table:
    """Each group's stage rows under its name, a section apart."""
    table = Table(title=title)
    table.add_column(T(head))
    _figure_columns(table)
    for g in groups:
        for i, cells in enumerate(stage_rows(g)):
            table.add_row(group_name(g) if i == 0 else "", *cells)
        table.add_section()
    return table


def _loops_table(out: StageTimesOut) -> Table:
    """Returns and objections, in all and per case, of every group (the overall one first)."""
    table = Table(title=T("st_loops_title"))
    table.add_column(T("st_group"))
    for key in ("st_cases", "st_returns", "st_returns_per_case", "st_objections", "st_objections_per_case"):
        table.add_column(T(key), justify="right")
    for part in ((out.overall,), out.by_province, out.by_locality):
        for g in part:
            if g.suppressed:
                table.add_row(group_name(g), str(g.cases), T("st_suppressed", n=SMALLEST_GROUP), "", "", "")
                continue
            per_case = (g.returns_per_case, g.objections_per_case)
            table.add_row(
                group_name(g),
                str(g.cases),
                glossary.decimal(g.returns),
                glossary.decimal(per_case[0]),
                glossary.decimal(g.objections),
                glossary.decimal(per_case[1]),
            )
        table.add_section()
    return table


def _loops_line(g: GroupFigures) -> str:
    if g.suppressed:
        return T("st_loops_suppressed", n=SMALLEST_GROUP)
    return T(
        "st_loops",
        returns=glossary.decimal(g.returns),
        objections=glossary.decimal(g.objections),
        returns_per_case=glossary.decimal(g.returns_per_case),
        objections_per_case=glossary.decimal(g.objections_per_case),
    )


def print_stage_times(out: StageTimesOut) -> None:
    scope = glossary.province_name(out.province) if out.province else T("st_national")
    overall = Table(title=T("st_title", round_name=glossary.round_label(out.round_id), scope=scope))
    _figure_columns(overall)
    for cells in stage_rows(out.overall):
        overall.add_row(*cells)
    console.print(overall)
    console.print(_loops_line(out.overall), highlight=False)
    console.print(_groups_table(T("st_by_province"), out.by_province, "province"))
    console.print(_groups_table(T("st_by_locality"), out.by_locality, "st_locality"))
    console.print(_loops_table(out))
    if not out.units_listed:
        console.print(T("st_units_hidden"), highlight=False)
        return
    slow = Table(T("unit"), T("province"), T("st_total_days"), T("st_slowest_stage"), T("st_slowest_stage_days"))
    slow.title = T("st_slowest")
    for s in out.slowest:
        stage = T.stage(s.slowest_stage) if s.slowest_stage else glossary.decimal(None)
        slow.add_row(
            s.unit_name, glossary.province_name(s.province_code), str(s.working_days), stage, str(s.slowest_stage_days)
        )
    console.print(slow)
