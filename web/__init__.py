"""Server-rendered pages for officials and administrators (Jinja2, no front-end build): sign-in, inbox, task forms,
case timelines, the stuck-approvals board, bulk due-date extension and round progress. Every page reads without
JavaScript; a small script adds the live score total and verdict preview."""

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles


def install(app: FastAPI) -> None:
    """Serve the pages and their static files from the API app."""
    from web.pages import SignInRequired, router

    async def to_signin(request: Request, exc: Exception) -> RedirectResponse:
        return RedirectResponse("/web/signin", status_code=303)

    app.include_router(router)
    app.mount("/web/static", StaticFiles(directory=Path(__file__).parent / "static"), name="web-static")
    app.add_exception_handler(SignInRequired, to_signin)
