"""A round's page for a province: progress by stage, the share recognised against the target, why units failed,
and the share recognised round by round against each year's target (server-rendered SVG)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import SessionDep, TemporalDep
from domain.stages import Stage
from services.errors import Refusal
from services.rounds import service as rounds
from services.rounds.history import shares_by_year
from services.rounds.report_xlsx import target_text
from web.i18n import Translator, lang_of
from web.pages.common import WebPrincipal, error_page, render

router = APIRouter(include_in_schema=False)


@router.get("/web/rounds/{round_id}", response_class=HTMLResponse)
async def round_page(
    request: Request, round_id: str, province: str, principal: WebPrincipal, session: SessionDep, temporal: TemporalDep
) -> HTMLResponse:
    now = datetime.now(UTC)
    try:
        progress = await rounds.progress(session, temporal, principal, round_id, province, now=now)
        report = await rounds.report(session, principal, round_id, province, now=now)
        years = await shares_by_year(session, province)
    except Refusal as exc:
        return error_page(request, principal, exc)
    target = report.target.share if report.target else None
    share = (report.recognised / report.units) if report.units else 0.0
    return render(
        request,
        "round.html",
        principal=principal,
        progress=progress,
        report=report,
        share=share,
        target=target,
        target_text=target_text(Translator(lang_of(request)), report),
        years=years,
        stages=[s.value for s in Stage],
    )
