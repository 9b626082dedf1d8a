"""A case's page: where it stands (a case waiting with no task says when its stage opens: a registered unit strives
until self-assessment opens) and its timeline, each event said in the official's language."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import SessionDep
from services.cases import service as cases
from services.cases.schemas import WAITING_STANDINGS, TimelineEvent
from services.errors import Refusal
from web.i18n import Translator, lang_of
from web.pages.common import LOCAL_TZ, WebPrincipal, error_page, render

router = APIRouter(include_in_schema=False)


def day_of(value: datetime | str | None) -> str:
    """dd/mm/yyyy of a moment in Asia/Ho_Chi_Minh, or of a day; the journal keeps either in ISO form."""
    if not value:
        return "—"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return (moment.astimezone(LOCAL_TZ) if moment.tzinfo else moment).strftime("%d/%m/%Y")


def labelled(t: Translator, key: str, code: str) -> str:
    """The glossary's text for `key`; the code itself when the glossary has none."""
    text = t(key)
    return code if text == key else text


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
        parts.append(" → ".join(labelled(t, f"profile_{p}", str(p)) for p in profiles))
    return t("action_authority_changed", on=day_of(payload.get("on"))), "; ".join(parts) or None


def said(e: TimelineEvent, t: Translator) -> tuple[str, str | None]:
    """What a timeline row says: the event, and a hint (its reason, when the stage it waits for opens, when the stage
    opened is due, the roles of a change of authority)."""
    if e.kind == "notification":
        return labelled(t, f"kind_{e.action}", e.action), e.reason
    if e.action == "authority_changed":
        return _authority_changed(e.payload, t)
    if e.action == "stage_opened":
        due = (e.payload.get("window") or {}).get("due")
        hint = f"{t('due')}: {day_of(due)}" if due else None
        return t("action_stage_opened", stage=t.stage(e.to_stage or "")), hint
    if e.action.endswith("_completed") and e.from_stage:
        label = t("action_completed", stage=t.stage(e.from_stage))
    else:
        label = labelled(t, f"action_{e.action}", e.action)
    waiting = standing_line(t, WAITING_STANDINGS.get(e.to_stage or ""), e.payload.get("waiting_until"))
    return label, "; ".join(h for h in (e.reason, waiting) if h) or None


@router.get("/web/cases/{case_id}", response_class=HTMLResponse)
async def case_page(request: Request, case_id: str, principal: WebPrincipal, session: SessionDep) -> HTMLResponse:
    try:
        case = await cases.get_case(session, principal, case_id)
        timeline = await cases.get_timeline(session, principal, case_id)
    except Refusal as exc:
        return error_page(request, principal, exc)
    t = Translator(lang_of(request))
    return render(
        request,
        "case.html",
        principal=principal,
        case=case,
        standing=standing_line(t, case.standing, case.waiting_until),
        events=[(e, *said(e, t)) for e in timeline.events],
        done=bool(request.query_params.get("done")),
    )
