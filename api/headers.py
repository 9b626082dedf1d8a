"""Security headers on every response: what a browser may load, run, frame and send along with the pages and the API.

The pages load only their own stylesheet and script (no inline `<script>`, no `style="…"` attribute), so the policy
needs no 'unsafe-inline'; nothing may frame them (the bulk confirmation page included), forms post only to this
site, and a `<base>` tag cannot re-point their links. JSON responses get the same headers: they load nothing, and
nothing gains by framing or sniffing them.

`install` puts them around the whole app, Starlette's error middleware included, so that even an unexpected 500
carries them.

The OpenAPI UI (`/docs`, `/redoc`) is FastAPI's own page, which loads its script from a CDN and starts it inline: it
gets only the directives that do not break it (no framing, no plugins, no `<base>`).
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.middleware import HttpMiddleware

PAGE_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)
DOCS_POLICY = "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
DOCS_PATHS = ("/docs", "/redoc")

COMMON = {
    "X-Frame-Options": "DENY",
    # same-origin, not no-referrer: a form post keeps its true Origin header (no-referrer would send `Origin: null`)
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


def policy_for(path: str) -> str:
    docs = any(path == p or path.startswith(p + "/") for p in DOCS_PATHS)
    return DOCS_POLICY if docs else PAGE_POLICY


class SecurityHeaders(HttpMiddleware):
    """Adds the headers to every HTTP response a route has not set them on itself."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        wanted = {**COMMON, "Content-Security-Policy": policy_for(scope["path"])}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in wanted.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(app: FastAPI) -> None:
    """The headers around the whole app, Starlette's error middleware included, so that its last-resort answers (an
    unexpected 500, a 503 when the database is out of reach) carry them too: `app.add_middleware` would place them
    inside it."""
    build = app.build_middleware_stack

    def build_with_headers() -> ASGIApp:
        return SecurityHeaders(build())

    app.build_middleware_stack = build_with_headers  # type: ignore[method-assign]
