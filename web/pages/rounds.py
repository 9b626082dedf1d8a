"""A round's page for a province: progress by stage, the share recognised against the target, why units failed,
and the share recognised round by round against each year's target (server-rendered SVG); and its downloads: the
report's workbook, the draft recognition decision (DOCX, PDF) and its annex's unit list (XLSX)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from api.deps import SessionDep, TemporalDep
from domain.stages import Stage
from infra.clock import today_vn
from services.errors import Refusal
from services.rounds import documents
from services.rounds import service as rounds
from services.rounds.history import shares_by_year
from services.rounds.report_xlsx import report_xlsx, target_text
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


def _attachment(content: bytes, media_type: str, filename: str) -> Response:
    return Response(
        content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@router.get("/web/rounds/{round_id}/report.xlsx", response_model=None)
async def report_workbook(
    request: Request, round_id: str, province: str, principal: WebPrincipal, session: SessionDep
) -> HTMLResponse | Response:
    """The round's report as a workbook, as `GET /v1/rounds/{id}/report?format=xlsx`."""
    try:
        report = await rounds.report(session, principal, round_id, province, now=datetime.now(UTC))
    except Refusal as exc:
        return error_page(request, principal, exc)
    name = f"bao-cao-{round_id[-4:]}-{province}.xlsx"
    return _attachment(report_xlsx(report, lang_of(request)), documents.MEDIA_TYPES["xlsx"], name)


@router.get("/web/rounds/{round_id}/decision.{fmt}", response_model=None)
async def decision_file(
    request: Request,
    round_id: str,
    fmt: Literal["docx", "pdf", "xlsx"],
    province: str,
    principal: WebPrincipal,
    session: SessionDep,
) -> HTMLResponse | Response:
    """The draft recognition decision (DOCX, PDF) or its annex's unit list (XLSX), as `GET /v1/rounds/{id}/decision`."""
    try:
        out = await documents.decision(
            session,
            principal,
            round_id,
            province,
            fmt=fmt,
            now=datetime.now(UTC),
            today=today_vn(),
            font_dir=request.app.state.settings.pdf_font_dir,
        )
    except Refusal as exc:
        return error_page(request, principal, exc)
    return _attachment(out.content, out.media_type, out.filename)
