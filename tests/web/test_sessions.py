"""The pages' sessions: signing in opens a server-side session whose random id (never the token) is the HttpOnly
cookie; it lasts at most the session length and never beyond the token; signing out revokes it, so the old cookie
signs nobody in; sign-in and sign-out posted from another site (Origin, or Referer without it) are refused 403."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import jwt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from db.models import WebSessionRow
from infra.tokens import issue_token, utcnow
from tests.support import SECRET, Stack, running_stack
from web.pages import SESSION_COOKIE, csrf_of
from web.sessions import digest

FOREIGN = "https://attacker.example"


def official(stack: Stack, role: str) -> str:
    return next(o.id for o in stack.officials if o.role.value == role)


def max_age(resp: httpx.Response) -> int:
    cookie = next(c for c in resp.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}="))
    return int(cookie.lower().split("max-age=")[1].split(";")[0])


def is_jwt(value: str) -> bool:
    try:
        jwt.get_unverified_header(value)
    except jwt.InvalidTokenError:
        return False
    return True


async def test_the_cookie_is_a_session_id_kept_hashed_and_signing_out_revokes_it(
    stack: Stack, browser: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    token = stack.tokens["commune_officer"]
    signed_in = await browser.post("/web/signin", data={"token": token})
    assert signed_in.status_code == 303, signed_in.text
    cookie = next(c for c in signed_in.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}="))
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    session_id = browser.cookies[SESSION_COOKIE]
    assert not is_jwt(session_id) and token not in "".join(signed_in.headers.get_list("set-cookie"))
    assert not any(is_jwt(value) for value in browser.cookies.values()), "a cookie holds a JWT"
    # the stack's tokens live an hour: the session no longer
    assert 0 < max_age(signed_in) <= 3600

    async with sessions() as session:
        row = (await session.execute(select(WebSessionRow))).scalar_one()
    assert row.id_hash == digest(session_id) and session_id not in row.id_hash
    assert (row.official_id, row.method, row.revoked_at) == (official(stack, "commune_officer"), "token", None)
    assert row.token_jti == jwt.decode(token, options={"verify_signature": False})["jti"]
    assert row.expires_at <= datetime.fromtimestamp(jwt.decode(token, options={"verify_signature": False})["exp"], UTC)

    assert (await browser.get("/web/tasks")).status_code == 200
    signed_out = await browser.post("/web/signout")
    assert signed_out.status_code == 303 and SESSION_COOKIE not in browser.cookies

    # the old cookie, kept by someone: no page, no form
    old = {"Cookie": f"{SESSION_COOKIE}={session_id}"}
    replay = await stack.http.get("/web/tasks", headers=old)
    assert replay.status_code == 303 and replay.headers["location"] == "/web/signin"
    form = await stack.http.post(
        "/web/bulk/extend-due",
        data={"csrf": csrf_of(session_id), "reason": "x", "add_working_days": "1"},
        headers=old,
    )
    assert form.status_code == 303 and form.headers["location"] == "/web/signin"
    async with sessions() as session:
        assert (await session.execute(select(WebSessionRow.revoked_at))).scalar_one() is not None
    # a made-up cookie is no session either
    made_up = await stack.http.get("/web/tasks", headers={"Cookie": f"{SESSION_COOKIE}={'x' * 43}"})
    assert made_up.status_code == 303


async def test_a_session_lasts_the_session_length_at_most(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    settings = {"XPTT_SESSION_HOURS": "1", "XPTT_TOKEN_MAX_HOURS": "24"}
    async with (
        running_stack(temporal_env.client, database_url, sessions, settings=settings) as stack,
        httpx.AsyncClient(base_url=stack.http.base_url, timeout=30) as browser,
    ):
        day = issue_token(official(stack, "admin"), secret=SECRET, issuer="xptt", now=utcnow(), ttl=timedelta(hours=24))
        signed_in = await browser.post("/web/signin", data={"token": day})
        assert signed_in.status_code == 303, signed_in.text
        assert 3500 < max_age(signed_in) <= 3600  # the session's hour, not the token's day
        async with sessions() as session:
            row = (await session.execute(select(WebSessionRow))).scalar_one()
        assert row.expires_at - row.created_at == timedelta(hours=1)


async def test_sign_in_and_sign_out_from_another_site_are_refused(
    stack: Stack, browser: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    token = stack.tokens["admin"]
    own = str(stack.http.base_url).rstrip("/")
    # login CSRF: another site's page posting its own token into this browser
    for headers in (
        {"Origin": FOREIGN},
        {"Origin": "null"},
        {"Referer": f"{FOREIGN}/page"},
        {"Origin": FOREIGN, "Referer": f"{own}/web/signin"},  # the Origin decides
    ):
        refused = await browser.post("/web/signin", data={"token": token}, headers=headers)
        assert refused.status_code == 403, (headers, refused.text[:300])
        assert "origin_refused" in refused.text and SESSION_COOKIE not in browser.cookies

    # this site: its own host, the public address (PUBLIC_URL, here the default), a Referer of this site
    for headers in ({"Origin": own}, {"Origin": "http://127.0.0.1:8000"}, {"Referer": f"{own}/web/signin"}, {}):
        accepted = await browser.post("/web/signin", data={"token": token}, headers=headers)
        assert accepted.status_code == 303, (headers, accepted.text[:300])
    assert (await browser.get("/web/tasks")).status_code == 200

    # sign-out from another site neither signs out nor clears the cookie
    refused = await browser.post("/web/signout", headers={"Origin": FOREIGN})
    assert refused.status_code == 403 and "origin_refused" in refused.text
    assert (await browser.get("/web/tasks")).status_code == 200
    signed_out = await browser.post("/web/signout", headers={"Origin": own})
    assert signed_out.status_code == 303
    assert (await browser.get("/web/tasks")).status_code == 303

    # each sign-in ended the browser's previous session: one live session at most
    async with sessions() as session:
        rows = (await session.execute(select(WebSessionRow.revoked_at))).scalars().all()
    assert len(rows) == 4 and all(revoked is not None for revoked in rows)
