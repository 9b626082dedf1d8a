"""What every page shares: rendering in the official's language, the signed-in official from the session cookie,
the CSRF token forms carry, and the check that sign-in and sign-out come from this site. Sign-in opens a server-side
session (`web.sessions`) whose random id is the HttpOnly cookie; POSTs carry a token derived from that id."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import AsyncSession

import glossary
from api.auth import Verified
from api.deps import SessionDep
from infra.settings import Settings
from services.access import Principal, overseen_provinces, principal_of
from services.errors import Refusal
from web.i18n import COOKIE as LANG_COOKIE
from web.i18n import Translator, lang_of
from web.sessions import SESSION_COOKIE, close_session, open_session, session_official

SIGNIN_COOKIE = "xptt_signin"  # how the official last signed in ("oidc"): an expired session goes back that way
templates = Jinja2Templates(directory=str(Path(__file__).parent.parent / "templates"))


def local(at: datetime | None) -> str:
    """dd/mm/yyyy HH:MM in Asia/Ho_Chi_Minh (glossary.moment); — for none."""
    return glossary.moment(at) if at else "—"


templates.env.filters["local"] = local
templates.env.filters["day"] = glossary.day
templates.env.filters["province_name"] = glossary.province_name
templates.env.filters["percent"] = glossary.percent
templates.env.filters["decimal"] = glossary.decimal


def _round_label(round_id: str, lang: str = "vi") -> str:
    label = glossary.round_label(round_id, lang)
    return label[:1].upper() + label[1:]


templates.env.filters["round_label"] = _round_label


def csrf_of(session_id: str) -> str:
    return hmac.new(b"xptt-web-csrf", session_id.encode(), hashlib.sha256).hexdigest()[:32]


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    lang = lang_of(request)
    sid = request.cookies.get(SESSION_COOKIE, "")
    if context.get("principal") is not None and "oversight" not in context:  # the board link, for those it serves
        context["oversight"] = bool(overseen_provinces(context["principal"]))
    response = templates.TemplateResponse(
        request,
        name,
        {"t": Translator(lang), "lang": lang, "csrf": csrf_of(sid) if sid else "", "now": datetime.now(UTC)} | context,
        status_code=status,
    )
    if request.query_params.get("lang") == lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", secure=secure_cookies(request))
    return response


class SignInRequired(Exception):
    pass


async def web_principal(request: Request, session: SessionDep) -> Principal:
    """The official whose live session the cookie names (not signed out, not expired, its token not revoked)."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        raise SignInRequired
    official_id = await session_official(session, session_id, now=datetime.now(UTC))
    if official_id is None:
        raise SignInRequired
    principal = await principal_of(session, official_id)
    if principal is None:
        raise SignInRequired
    return principal


def settings_of(request: Request) -> Settings | None:
    settings = getattr(request.app.state, "settings", None)
    return settings if isinstance(settings, Settings) else None


def secure_cookies(request: Request) -> bool:
    """Cookies only over https: the request came that way, or the public address is https (behind a TLS proxy)."""
    settings = settings_of(request)
    public = settings.public_url if settings is not None else ""
    return request.url.scheme == "https" or public.startswith("https://")


async def start_session(
    request: Request, response: Response, session: AsyncSession, verified: Verified, *, via: str
) -> None:
    """Sign in: a server-side session for the official the verified token names (`via`: token | oidc), its random id
    in an HttpOnly cookie; the browser's previous session, if any, ends. Commits the request's transaction."""
    settings = settings_of(request)
    hours = settings.session_hours if settings is not None else Settings().session_hours
    now = datetime.now(UTC)
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:
        await close_session(session, previous, now=now)
    opened = await open_session(
        session,
        official_id=verified.official_id,
        method=via,
        token_jti=verified.jti,
        token_expires_at=verified.expires_at,
        now=now,
        length=timedelta(hours=hours),
    )
    await session.commit()
    secure = secure_cookies(request)
    age = max(0, int((opened.expires_at - now).total_seconds()))
    response.set_cookie(SESSION_COOKIE, opened.session_id, httponly=True, samesite="lax", secure=secure, max_age=age)
    response.set_cookie(SIGNIN_COOKIE, via, httponly=True, samesite="lax", secure=secure, max_age=30 * 86400)


async def end_session(request: Request, response: Response, session: AsyncSession) -> None:
    """Sign out: the session is revoked server-side (a copy of the cookie no longer works) and the cookies cleared."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:
        await close_session(session, session_id, now=datetime.now(UTC))
        await session.commit()
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(SIGNIN_COOKIE)


def foreign_origin(request: Request) -> str | None:
    """The other site a form post came from, or None when it came from this one. A browser names the page that sent
    the form in `Origin` (or, without it, `Referer`); this site is the public address or the host the request was
    sent to. A request naming neither (a script, not a browser) cannot be a cross-site form: it passes."""
    sender = request.headers.get("origin")
    if sender is None:
        referer = request.headers.get("referer")
        if not referer:
            return None
        parts = urlsplit(referer)
        sender = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else referer
    sender = sender.strip().lower().rstrip("/")
    settings = settings_of(request)
    public = urlsplit(settings.public_url) if settings is not None else None
    own = {f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}".lower()}
    if public is not None and public.scheme and public.netloc:
        own.add(f"{public.scheme}://{public.netloc}".lower())
    return None if sender in own else sender


def _form_refused_page(
    request: Request, principal: Principal | None, code: str, *, back: str, back_label: str, **more: Any
) -> HTMLResponse:
    """A form refused as not sent from this site's own page (403): its `code`, and the way back (`back_label`: the
    phrase's key)."""
    t = Translator(lang_of(request))
    return render(
        request,
        "error.html",
        status=403,
        principal=principal,
        headline=t("csrf_title"),
        message=t("csrf_refused"),
        code=code,
        back=back,
        back_label=t(back_label),
        **more,
    )


def origin_refused_page(request: Request, sender: str) -> HTMLResponse:
    detail = f"the form was sent from {sender}, not from this site"
    return _form_refused_page(
        request, None, "origin_refused", back="/web/signin", back_label="signin_again", detail=detail
    )


WebPrincipal = Annotated[Principal, Depends(web_principal)]


class CsrfRefused(Exception):
    """A page form posted without the CSRF token of the signed-in official: answered with the HTML error page."""

    def __init__(self, back: str, principal: Principal | None = None) -> None:
        super().__init__("the form is stale or came from another site: reload the page")
        self.back = back
        self.principal = principal


def check_csrf(request: Request, csrf: str, *, back: str, principal: Principal | None = None) -> None:
    session_id = request.cookies.get(SESSION_COOKIE, "")
    if not session_id or not hmac.compare_digest(csrf.encode(), csrf_of(session_id).encode()):
        raise CsrfRefused(back, principal)


def csrf_refused_page(request: Request, exc: CsrfRefused) -> HTMLResponse:
    return _form_refused_page(request, exc.principal, "csrf_refused", back=exc.back, back_label="back_to_form")


async def form_of(request: Request) -> dict[str, str]:
    """The posted form's fields as text."""
    return {k: str(v) for k, v in (await request.form()).items()}


def error_page(request: Request, principal: Principal | None, exc: Refusal) -> HTMLResponse:
    """A service's refusal as a page, with its status."""
    return render(request, "error.html", status=exc.status, principal=principal, problem=exc)
