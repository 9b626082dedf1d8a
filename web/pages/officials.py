"""The officials of a province, read-only, for its administrators and auditors: each official with their contact
details, their roles in the province (Vietnamese role names, the unit, the days each role holds, whether it holds
today), whether they are active, and their leaves in force or to come with the deputy (services/officials). Changes
go through the import, the API and the CLI."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import SessionDep
from domain.units import load_provinces
from services.access import require_oversight
from services.errors import Refusal
from services.officials import absences
from services.officials import service as directory
from web.pages.common import WebPrincipal, error_page, render

router = APIRouter(include_in_schema=False)


@router.get("/web/officials", response_class=HTMLResponse)
async def officials_page(
    request: Request, principal: WebPrincipal, session: SessionDep, province: str | None = None
) -> HTMLResponse:
    """`province`: one the official oversees; none: the first of theirs."""
    try:
        chosen = province or min(require_oversight(principal))
        now = datetime.now(UTC)
        officials = await directory.list_officials(session, principal, chosen, now=now, include_inactive=True)
        leaves = await absences.leaves_ahead(session, principal, chosen, now=now)
    except Refusal as exc:
        return error_page(request, principal, exc)
    names = {p.code: p.name for p in load_provinces()}
    return render(
        request,
        "officials.html",
        principal=principal,
        province=chosen,
        province_name=names.get(chosen, chosen),
        officials=officials,
        leaves=leaves,
        active=sum(o.active for o in officials),
    )
