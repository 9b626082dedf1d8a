"""A case's page, which an auditor can work from: the unit, its province, locality type and threshold; where the
case stands (a case waiting with no task says when its stage opens); both score sheets against the maxima with the
changes marked, the verdict and its reasons, the decision and the commendation (web/pages/case_view.py); the timeline
of transitions and decisions, with the notifications folded apart; for auditors and administrators, whether the
journal verifies, and the replay and the export the audit API offers — each said in the official's language."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import glossary
from api.deps import SessionDep, TemporalDep
from audit.service import ReplayReport, export_case, replay_case, verify_case
from audit.verify import CaseVerification
from db.models import OfficialRow
from services.access import Principal, require_audit
from services.cases import service as cases
from services.cases.schemas import WAITING_STANDINGS, CaseOut, TimelineEvent
from services.errors import Refusal
from web.i18n import Translator, lang_of
from web.pages.case_view import case_view
from web.pages.common import WebPrincipal, check_csrf, error_page, form_of, render

router = APIRouter(include_in_schema=False)


def day_of(value: datetime | str | None) -> str:
    """dd/mm/yyyy of a moment in Asia/Ho_Chi_Minh, or of a day (the journal keeps either in ISO form); — for none."""
    return glossary.day(value) if value else "—"


def standing_line(t: Translator, standing: str | None, waiting_until: datetime | str | None) -> str | None:
    """E.g. "Đang phấn đấu — tự đánh giá mở ngày 01/10/2027"; None when the case is not waiting."""
    return t(f"standing_{standing}", day=day_of(waiting_until)) if standing and waiting_until else None


def _authority_changed(payload: dict[str, Any], t: Translator) -> tuple[str, str | None]:
    """The change of authority: as of which day, from which role and procedure to which."""
    parts = []
    roles = payload.get("from_role"), payload.get("to_role")
    if all(roles) and roles[0] != roles[1]:
        parts.append(" → ".join(t.role(str(r)) for r in roles))
    profiles = payload.get("from_profile"), payload.get("to_profile")
    if all(profiles):
        parts.append(" → ".join(t.term("profile", str(p)) for p in profiles))
    return t.term("action", "authority_changed", on=day_of(payload.get("on"))), "; ".join(parts) or None


def said(e: TimelineEvent, t: Translator) -> tuple[str, str | None]:
    """What a timeline row says: the event, and a hint (its reason, when the stage it waits for opens, when the stage
    opened is due, the roles of a change of authority)."""
    if e.kind == "notification":
        return t.term("notification", e.action), None
    if e.action == "authority_changed":
        return _authority_changed(e.payload, t)
    if e.action == "stage_opened":
        due = (e.payload.get("window") or {}).get("due")
        hint = f"{t('due')}: {day_of(due)}" if due else None
        return t.term("action", "stage_opened", stage=t.stage(e.to_stage or "")), hint
    if e.action.endswith("_completed") and e.from_stage:
        label = t.term("action", "completed", stage=t.stage(e.from_stage))
    else:
        label = t.term("action", e.action)
    waiting = standing_line(t, WAITING_STANDINGS.get(e.to_stage or ""), e.payload.get("waiting_until"))
    reason = glossary.said_reason(e.reason, t.lang)
    return label, "; ".join(h for h in (reason, waiting) if h) or None


async def _audit(request: Request, principal: Principal, case: CaseOut) -> CaseVerification | None:
    """The journal's verification, for those who may audit the case (auditors and administrators); else None."""
    try:
        require_audit(principal, case.unit_code, case.province_code, case_id=case.id)
    except Refusal:
        return None
    return await verify_case(request.app.state.sessions, case.id)


async def _names(session: AsyncSession, ids: set[str]) -> dict[str, str]:
    rows = await session.execute(select(OfficialRow.id, OfficialRow.full_name).where(OfficialRow.id.in_(ids)))
    return dict(rows.all())


async def _case_page(
    request: Request, principal: Principal, session: AsyncSession, case_id: str, replayed: ReplayReport | None = None
) -> HTMLResponse:
    try:
        case = await cases.get_case(session, principal, case_id)
        timeline = await cases.get_timeline(session, principal, case_id)
    except Refusal as exc:
        return error_page(request, principal, exc)
    lang = lang_of(request)
    t = Translator(lang)
    verification = await _audit(request, principal, case)
    rows = [(e, *said(e, t)) for e in timeline.events]
    return render(
        request,
        "case.html",
        principal=principal,
        case=case,
        view=case_view(case, lang),
        standing=standing_line(t, case.standing, case.waiting_until),
        events=[r for r in rows if r[0].kind != "notification"],
        notices=[r for r in rows if r[0].kind == "notification"],
        names=await _names(
            session, {e.actor_id or e.payload.get("recipient_id") or "" for e in timeline.events} - {""}
        ),
        verification=verification,
        replayed=replayed,
        done=bool(request.query_params.get("done")),
    )


@router.get("/web/cases/{case_id}", response_class=HTMLResponse)
async def case_page(request: Request, case_id: str, principal: WebPrincipal, session: SessionDep) -> HTMLResponse:
    return await _case_page(request, principal, session, case_id)


@router.post("/web/cases/{case_id}/replay", response_class=HTMLResponse)
async def case_replay(
    request: Request, case_id: str, principal: WebPrincipal, session: SessionDep, temporal: TemporalDep
) -> HTMLResponse:
    """Replay the case's history on this build's code (auditors and administrators); the page says the outcome."""
    form = await form_of(request)
    check_csrf(request, form.get("csrf", ""), back=f"/web/cases/{case_id}", principal=principal)
    try:
        case = await cases.readable_case(session, principal, case_id)
        require_audit(principal, case.unit_code, case.province_code, case_id=case_id)
    except Refusal as exc:
        return error_page(request, principal, exc)
    report = await replay_case(request.app.state.sessions, temporal, case_id)
    return await _case_page(request, principal, session, case_id, replayed=report)


@router.get("/web/cases/{case_id}/export", response_model=None)
async def case_export(
    request: Request, case_id: str, principal: WebPrincipal, session: SessionDep
) -> HTMLResponse | Response:
    """The case's audit bundle as a download (auditors and administrators), as `GET /v1/audit/cases/{id}/export`."""
    try:
        case = await cases.readable_case(session, principal, case_id)
        require_audit(principal, case.unit_code, case.province_code, case_id=case_id)
    except Refusal as exc:
        return error_page(request, principal, exc)
    raw, digest = await export_case(request.app.state.sessions, case_id, now=datetime.now(UTC))
    name = re.sub(r"[^A-Za-z0-9._-]", "_", case_id)
    return Response(
        content=raw,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}.audit.json"', "X-Bundle-SHA256": digest},
    )
