"""The pages, one module per feature, each a thin adapter over its service (parse the form, call, render)."""

from fastapi import APIRouter

from web.pages import board, cases, ministry, officials, rounds, signin, stage_times, tasks, whatif
from web.pages.common import SIGNIN_COOKIE, CsrfRefused, SignInRequired, csrf_of, csrf_refused_page
from web.sessions import SESSION_COOKIE

__all__ = ["SESSION_COOKIE", "SIGNIN_COOKIE", "CsrfRefused", "SignInRequired", "csrf_of", "csrf_refused_page", "router"]

router = APIRouter(include_in_schema=False)
for feature in (signin, tasks, cases, board, rounds, ministry, officials, stage_times, whatif):
    router.include_router(feature.router)
