"""A case's page: where it stands and its timeline."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import SessionDep
from services.cases import service as cases
from services.errors import Refusal
from web.pages.common import WebPrincipal, error_page, render

router = APIRouter(include_in_schema=False)


@router.get("/web/cases/{case_id}", response_class=HTMLResponse)
async def case_page(request: Request, case_id: str, principal: WebPrincipal, session: SessionDep) -> HTMLResponse:
    try:
        case = await cases.get_case(session, principal, case_id)
        timeline = await cases.get_timeline(session, principal, case_id)
    except Refusal as exc:
        return error_page(request, principal, exc)
    return render(
        request,
        "case.html",
        principal=principal,
        case=case,
        timeline=timeline,
        done=bool(request.query_params.get("done")),
    )
