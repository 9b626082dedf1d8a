"""What every page shares: rendering in the official's language, the signed-in official from the session cookie,
and the CSRF token forms carry. Sign-in keeps the bearer token in an HttpOnly cookie; POSTs carry a token derived
from it."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.auth import AuthError, TokenVerifier
from api.deps import SessionDep
from infra.settings import Settings
from services.access import Principal, overseen_provinces, principal_of
from services.errors import Refusal
from web.i18n import COOKIE as LANG_COOKIE
from web.i18n import Translator, lang_of

TOKEN_COOKIE = "xptt_token"
SIGNIN_COOKIE = "xptt_signin"  # how the official last signed in ("oidc"): an expired session goes back that way
SESSION_SECONDS = 12 * 3600
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
templates = Jinja2Templates(directory=str(Path(__file__).parent.parent / "templates"))


def local(at: datetime | None) -> str:
    return at.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M") if at else "—"


templates.env.filters["local"] = local


def csrf_of(token: str) -> str:
    return hmac.new(b"xptt-web-csrf", token.encode(), hashlib.sha256).hexdigest()[:32]


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    lang = lang_of(request)
    token = request.cookies.get(TOKEN_COOKIE, "")
    if context.get("principal") is not None and "oversight" not in context:  # the board link, for those it serves
        context["oversight"] = bool(overseen_provinces(context["principal"]))
    response = templates.TemplateResponse(
        request,
        name,
        {"t": Translator(lang), "lang": lang, "csrf": csrf_of(token) if token else "", "now": datetime.now(UTC)}
        | context,
        status_code=status,
    )
    if request.query_params.get("lang") == lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response


class SignInRequired(Exception):
    pass


async def web_principal(request: Request, session: SessionDep) -> Principal:
    """The official the session cookie names: a token as the API takes it, or the ID token of an OIDC sign-in."""
    token = request.cookies.get(TOKEN_COOKIE)
    if not token:
        raise SignInRequired
    verifier: TokenVerifier = request.app.state.verifier
    try:
        official_id = await verifier.official_id(token, id_tokens=True)
    except AuthError as exc:
        if exc.status == 401:
            raise SignInRequired from None
        raise Refusal(exc.status, exc.code, exc.detail) from None
    principal = await principal_of(session, official_id)
    if principal is None:
        raise SignInRequired
    return principal


def secure_cookies(request: Request) -> bool:
    """Cookies only over https: the request came that way, or the public address is https (behind a TLS proxy)."""
    settings = getattr(request.app.state, "settings", None)
    public = settings.public_url if isinstance(settings, Settings) else ""
    return request.url.scheme == "https" or public.startswith("https://")


def start_session(
    request: Request, response: Response, token: str, *, max_age: int | None = None, via: str = "token"
) -> None:
    """Sign in: the token in an HttpOnly cookie that every page verifies again (until the token expires)."""
    secure = secure_cookies(request)
    age = SESSION_SECONDS if max_age is None else max(0, min(max_age, SESSION_SECONDS))
    response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="lax", secure=secure, max_age=age)
    response.set_cookie(SIGNIN_COOKIE, via, httponly=True, samesite="lax", secure=secure, max_age=30 * 86400)


WebPrincipal = Annotated[Principal, Depends(web_principal)]


class CsrfRefused(Exception):
    """A page form posted without the CSRF token of the signed-in official: answered with the HTML error page."""

    def __init__(self, back: str, principal: Principal | None = None) -> None:
        super().__init__("the form is stale or came from another site: reload the page")
        self.back = back
        self.principal = principal


def check_csrf(request: Request, csrf: str, *, back: str, principal: Principal | None = None) -> None:
    token = request.cookies.get(TOKEN_COOKIE, "")
    if not token or not hmac.compare_digest(csrf.encode(), csrf_of(token).encode()):
        raise CsrfRefused(back, principal)


def csrf_refused_page(request: Request, exc: CsrfRefused) -> HTMLResponse:
    t = Translator(lang_of(request))
    return render(
        request,
        "error.html",
        status=403,
        principal=exc.principal,
        headline=t("csrf_title"),
        message=t("csrf_refused"),
        code="csrf_refused",
        back=exc.back,
        back_label=t("back_to_form"),
    )


async def form_of(request: Request) -> dict[str, str]:
    """The posted form's fields as text."""
    return {k: str(v) for k, v in (await request.form()).items()}


def error_page(request: Request, principal: Principal | None, exc: Refusal) -> HTMLResponse:
    """A service's refusal as a page, with its status."""
    return render(request, "error.html", status=exc.status, principal=principal, problem=exc)
