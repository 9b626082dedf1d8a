"""Signing in (a token, or the OIDC provider when configured) and out. Both take form posts from this site only: a
post from another site's page (its Origin, or Referer) is refused, so no page elsewhere can sign a visitor in as
someone else or out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import SessionDep, authenticate
from services.access import principal_of
from services.errors import Refusal
from web.i18n import Translator, lang_of
from web.pages.common import end_session, foreign_origin, origin_refused_page, render, start_session

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
async def signin(request: Request, session: SessionDep, token: Annotated[str, Form()] = "") -> Response:
    sender = foreign_origin(request)
    if sender is not None:
        return origin_refused_page(request, sender)
    try:
        verified = await authenticate(request, session, token.strip())
        if verified.service:
            raise Refusal(401, "service_token", "a service token is for the API; sign in with your own token")
        if await principal_of(session, verified.official_id) is None:
            raise Refusal(401, "unknown_official", f"official {verified.official_id} is not registered or not active")
    except Refusal as exc:
        said = Translator(lang_of(request)).refusal(exc.code, exc.detail, exc.extra)
        return render(request, "signin.html", status=401, error=said, oidc=_oidc_name(request))
    response = RedirectResponse("/web/tasks", status_code=303)
    await start_session(request, response, session, verified, via="token")
    return response


@router.post("/web/signout", response_model=None)
async def signout(request: Request, session: SessionDep) -> Response:
    sender = foreign_origin(request)
    if sender is not None:
        return origin_refused_page(request, sender)
    response = RedirectResponse("/web/signin", status_code=303)
    await end_session(request, response, session)
    return response
