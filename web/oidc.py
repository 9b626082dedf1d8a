"""Sign-in with the OIDC provider: `/web/oidc/login` sends the browser to the provider's authorization endpoint (code
flow, PKCE S256, state, nonce; the three secrets wait in a short-lived HttpOnly cookie), `/web/oidc/callback` checks the
state, exchanges the code at the token endpoint, verifies the ID token (issuer, the client id as audience, nonce,
expiry, lifetime, signature) and signs in, as the token sign-in does, the active official whose OIDC issuer and subject
are the token's (when no official has that pair: the one whose id is `sub`, if they have no pair of their own): a
server-side session, never the token, in the cookie. Each refusal is a page in the page's language that says which
step failed. Both routes are GETs (the provider's redirect back is a top-level navigation); the state cookie ties the
callback to this browser's own sign-in, so another site cannot complete a sign-in in it."""

from __future__ import annotations

import base64
import hmac
import json
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.auth import AuthError, TokenVerifier
from api.deps import SessionDep
from api.oidc import Attempt, OidcError, OidcProvider
from services.access import principal_of
from web.i18n import Translator, lang_of
from web.pages.common import render, secure_cookies, start_session

log = structlog.get_logger(__name__)

ATTEMPT_COOKIE = "xptt_oidc"
ATTEMPT_PATH = "/web/oidc"
ATTEMPT_SECONDS = 600  # from the sign-in button to the callback

router = APIRouter(include_in_schema=False)


def provider_of(request: Request) -> OidcProvider | None:
    provider: OidcProvider | None = getattr(request.app.state, "oidc", None)
    return provider


def local_path(value: str | None) -> str:
    """Where to go after signing in: a page of this site only (never another host)."""
    if value and value.startswith("/web/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/web/tasks"


def _encode(attempt: Attempt, next_path: str) -> str:
    raw = json.dumps({"s": attempt.state, "n": attempt.nonce, "v": attempt.verifier, "next": next_path})
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode(value: str | None) -> tuple[Attempt, str] | None:
    if not value:
        return None
    try:
        raw: dict[str, Any] = json.loads(base64.urlsafe_b64decode(value.encode()))
        return Attempt(str(raw["s"]), str(raw["n"]), str(raw["v"])), local_path(raw.get("next"))
    except (ValueError, KeyError, TypeError):
        return None


def refusal(request: Request, status: int, code: str, *, detail: str = "", **values: object) -> HTMLResponse:
    t = Translator(lang_of(request))
    response = render(
        request,
        "error.html",
        status=status,
        principal=None,
        headline=t(f"{code}_title"),
        message=t(code, **values),
        code=code,
        detail=detail,
        back="/web/signin",
        back_label=t("signin_again"),
    )
    response.delete_cookie(ATTEMPT_COOKIE, path=ATTEMPT_PATH)
    log.warning("web_oidc_refused", code=code, detail=detail)
    return response


@router.get("/web/oidc/login", response_model=None)
async def oidc_login(request: Request, next: str | None = None) -> HTMLResponse | RedirectResponse:
    provider = provider_of(request)
    if provider is None:
        return refusal(request, 404, "oidc_off")
    attempt = Attempt.new()
    try:
        url = await provider.authorize_url(attempt)
    except OidcError as exc:
        return refusal(request, 503, "oidc_unavailable", detail=exc.detail)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        ATTEMPT_COOKIE,
        _encode(attempt, local_path(next)),
        max_age=ATTEMPT_SECONDS,
        path=ATTEMPT_PATH,
        httponly=True,
        samesite="lax",  # the provider's redirect back is a top-level GET: the cookie goes with it
        secure=secure_cookies(request),
    )
    return response


@router.get("/web/oidc/callback", response_model=None)
async def oidc_callback(
    request: Request,
    session: SessionDep,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
    error_description: str | None = None,
) -> HTMLResponse | RedirectResponse:
    provider = provider_of(request)
    if provider is None:
        return refusal(request, 404, "oidc_off")
    started = _decode(request.cookies.get(ATTEMPT_COOKIE))
    if started is None:
        return refusal(request, 400, "oidc_state", detail="no sign-in was started in this browser, or it expired")
    attempt, next_path = started
    if not state or not hmac.compare_digest(state.encode(), attempt.state.encode()):
        return refusal(request, 400, "oidc_state", detail="the state parameter does not match this sign-in")
    if error:
        said = f"{error}: {error_description}" if error_description else error
        return refusal(request, 401, "oidc_denied", detail=said, error=error)
    if not code:
        return refusal(request, 400, "oidc_denied", detail="the provider sent no code", error="no code")
    try:
        id_token = await provider.exchange(code, attempt)
    except OidcError as exc:
        status = 503 if exc.code == "provider_unavailable" else 502
        return refusal(request, status, "oidc_exchange", detail=exc.detail)
    verifier: TokenVerifier = request.app.state.verifier
    try:
        verified = await verifier.id_token_subject(id_token, nonce=attempt.nonce)
        await verifier.not_revoked(verified, session)
    except AuthError as exc:
        status = 503 if exc.status == 503 else 401
        return refusal(request, status, "oidc_token", detail=f"{exc.code}: {exc.detail}")
    subject = verified.official_id
    official = await verifier.signing_in(verified, session)  # by (iss, sub); the pair-less official named sub else
    principal = await principal_of(session, official.official_id) if official is not None else None
    if official is None or principal is None:
        return refusal(request, 403, "oidc_unknown", detail=f"sub {subject}", sub=subject)
    response = RedirectResponse(next_path, status_code=303)
    await start_session(request, response, session, official, via="oidc")
    response.delete_cookie(ATTEMPT_COOKIE, path=ATTEMPT_PATH)
    log.info("web_oidc_signed_in", official_id=official.official_id, subject=subject)
    return response
