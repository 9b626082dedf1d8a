"""The pages, one module per feature, each a thin adapter over its service (parse the form, call, render)."""

from fastapi import APIRouter

from web.pages import board, cases, rounds, signin, tasks
from web.pages.common import SIGNIN_COOKIE, TOKEN_COOKIE, CsrfRefused, SignInRequired, csrf_of, csrf_refused_page

__all__ = ["SIGNIN_COOKIE", "TOKEN_COOKIE", "CsrfRefused", "SignInRequired", "csrf_of", "csrf_refused_page", "router"]

router = APIRouter(include_in_schema=False)
for feature in (signin, tasks, cases, board, rounds):
    router.include_router(feature.router)
