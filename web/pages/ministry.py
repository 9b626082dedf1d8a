"""The report to the ministry on the pages: a province's report (its administrators review and submit it, its auditors
and the ministry read it) and the national report (the ministry)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import SessionDep
from domain.ministry_report import ReportStatus
from services.access import admin_provinces
from services.errors import Refusal
from services.ministry import service as ministry
from services.ministry.schemas import SubmitIn
from web.pages.common import WebPrincipal, check_csrf, error_page, form_of, render

router = APIRouter(include_in_schema=False)


def _page(round_id: str, province: str) -> str:
    return f"/web/rounds/{round_id}/ministry-report?province={province}"


@router.get("/web/rounds/{round_id}/ministry-report", response_class=HTMLResponse)
async def report_page(
    request: Request, round_id: str, province: str, principal: WebPrincipal, session: SessionDep
) -> HTMLResponse:
    try:
        out = await ministry.report_of(session, principal, round_id, province, now=datetime.now(UTC))
    except Refusal as exc:
        return error_page(request, principal, exc)
    due = out.status in (ReportStatus.DUE, ReportStatus.OVERDUE)  # the round has closed: the task is open
    may_submit = province in admin_provinces(principal) and out.draft_hash is not None and due
    return render(
        request,
        "ministry_report.html",
        principal=principal,
        report=out,
        may_submit=may_submit,
        shown=out.snapshot or out.draft,
    )


@router.post("/web/rounds/{round_id}/ministry-report", response_class=HTMLResponse)
async def submit_page(request: Request, round_id: str, principal: WebPrincipal, session: SessionDep) -> HTMLResponse:
    form = await form_of(request)
    province = form.get("province", "")
    check_csrf(request, form.get("csrf", ""), back=_page(round_id, province), principal=principal)
    try:
        req = SubmitIn(province=province, reviewed_hash=form.get("reviewed_hash", ""))
        out = await ministry.submit(session, principal, round_id, req, now=datetime.now(UTC))
    except ValueError as exc:  # a form that is not one (pydantic's ValidationError)
        return error_page(request, principal, Refusal(422, "invalid_request", str(exc)))
    except Refusal as exc:
        return error_page(request, principal, exc)
    return render(
        request, "ministry_report.html", principal=principal, report=out, may_submit=False, shown=out.snapshot
    )


@router.get("/web/national", response_class=HTMLResponse)
async def national_page(
    request: Request, principal: WebPrincipal, session: SessionDep, round: str | None = None
) -> HTMLResponse:
    try:
        round_id = round or await ministry.latest_round(session, principal)
        out = await ministry.national(session, principal, round_id, now=datetime.now(UTC))
    except Refusal as exc:
        return error_page(request, principal, exc)
    return render(request, "national.html", principal=principal, national=out)
