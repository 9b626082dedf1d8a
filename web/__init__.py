"""Server-rendered pages for officials and administrators (Jinja2, no front-end build): sign-in, inbox, task forms,
case timelines, the stuck-approvals board, bulk due-date extension and round progress. Every page reads without
JavaScript; a small script adds the live score total and verdict preview."""

from pathlib import Path
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles


def install(app: FastAPI) -> None:
    """Serve the pages and their static files from the API app."""
    from web.oidc import router as oidc_router
    from web.pages import SIGNIN_COOKIE, CsrfRefused, SignInRequired, csrf_refused_page, router

    async def to_signin(request: Request, exc: Exception) -> RedirectResponse:
        # one who signed in with the provider goes back there (its own session usually answers at once), then here
        if request.cookies.get(SIGNIN_COOKIE) == "oidc" and getattr(request.app.state, "oidc", None) is not None:
            here = request.url.path if request.method == "GET" else "/web/tasks"
            if request.method == "GET" and request.url.query:
                here += "?" + request.url.query
            return RedirectResponse(f"/web/oidc/login?{urlencode({'next': here})}", status_code=303)
        return RedirectResponse("/web/signin", status_code=303)

    async def csrf_refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, CsrfRefused)
        return csrf_refused_page(request, exc)

    app.include_router(router)
    app.include_router(oidc_router)
    app.mount("/web/static", StaticFiles(directory=Path(__file__).parent / "static"), name="web-static")
    app.add_exception_handler(SignInRequired, to_signin)
    app.add_exception_handler(CsrfRefused, csrf_refused)
