"""A case's page: where it stands and its timeline."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import SessionDep
from api.routes import cases as case_routes
from services.errors import Refusal
from web.pages.common import WebPrincipal, error_page, render

router = APIRouter(include_in_schema=False)


@router.get("/web/cases/{case_id}", response_class=HTMLResponse)
async def case_page(request: Request, case_id: str, principal: WebPrincipal, session: SessionDep) -> HTMLResponse:
    try:
        case = await case_routes.get_case(case_id=case_id, principal=principal, session=session)
        timeline = await case_routes.get_timeline(case_id=case_id, principal=principal, session=session)
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
