"""Signing in (a token, or the OIDC provider when configured) and out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.security import HTTPAuthorizationCredentials

from api.deps import SessionDep, get_principal
from services.errors import Refusal
from web.pages.common import SIGNIN_COOKIE, TOKEN_COOKIE, render, start_session

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home() -> RedirectResponse:
    return RedirectResponse("/web/tasks", status_code=303)


def _oidc_name(request: Request) -> str | None:
    """The OIDC provider's name for the sign-in button ("" when unnamed), or None when OIDC sign-in is off."""
    provider = getattr(request.app.state, "oidc", None)
    return None if provider is None else str(provider.name)


@router.get("/web/signin", response_class=HTMLResponse)
async def signin_page(request: Request) -> HTMLResponse:
    return render(request, "signin.html", error=None, oidc=_oidc_name(request))


@router.post("/web/signin", response_class=HTMLResponse, response_model=None)
async def signin(
    request: Request, session: SessionDep, token: Annotated[str, Form()] = ""
) -> HTMLResponse | RedirectResponse:
    token = token.strip()
    try:
        await get_principal(request, session, HTTPAuthorizationCredentials(scheme="Bearer", credentials=token))
    except Refusal as exc:
        return render(request, "signin.html", status=401, error=exc.detail, oidc=_oidc_name(request))
    response = RedirectResponse("/web/tasks", status_code=303)
    start_session(request, response, token)
    return response


@router.post("/web/signout")
async def signout() -> RedirectResponse:
    response = RedirectResponse("/web/signin", status_code=303)
    response.delete_cookie(TOKEN_COOKIE)
    response.delete_cookie(SIGNIN_COOKIE)
    return response
