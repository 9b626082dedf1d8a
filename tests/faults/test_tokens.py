"""Forged and over-long bearer tokens, on the real stack: worker and HTTP API on loopback, a real Temporal dev
server, real PostgreSQL.

Each token of the table is signed with the right secret and names a real official, and is wrong in one way only:
no lifetime cap kept (an exp in 9999, a lifetime over the cap with or without iat, a future iat hiding one), an exp
that is no integer (a numeric string, a float) or missing, an audience of another application or none, no jti, a
jti on the revoked list. The API refuses each with its code, and the pages' sign-in refuses each too; the same
token without the flaw is accepted (so each row fails for its flaw alone). A service token lives up to its own cap;
revoking the token a page session was opened with ends the session.
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest

from infra.tokens import issue_token, revoke_token, utcnow
from tests.api.helpers import problem
from tests.support import SECRET, Stack
from web.pages import SESSION_COOKIE

SCENARIO_TOKENS = (
    "10. forged and over-long bearer tokens: each refused with its code; a service token within its cap passes"
)
HOUR = 3600
DROP = object()  # a claim left out


def forge(official_id: str, **changes: Any) -> str:
    """A token signed with the stack's secret: good claims, but for `changes` (DROP removes a claim)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": official_id,
        "iss": "xptt",
        "aud": "xptt",
        "iat": now,
        "exp": now + HOUR,
        "jti": uuid.uuid4().hex,
    }
    for name, value in changes.items():
        if value is DROP:
            claims.pop(name, None)
        else:
            claims[name] = value
    return jwt.encode(claims, SECRET, algorithm="HS256")


def table(official_id: str, revoked_jti: str) -> list[tuple[str, str, str]]:
    """(row, token, the code it is refused with)."""
    now = int(time.time())
    return [
        ("exp in the year 9999", forge(official_id, exp=253402300799), "token_lifetime_exceeded"),
        ("exp a numeric string", forge(official_id, exp=str(now + HOUR)), "invalid_token"),
        ("exp a float", forge(official_id, exp=now + HOUR + 0.5), "invalid_token"),
        ("no exp", forge(official_id, exp=DROP), "invalid_token"),
        ("lives 25 h (the cap is 24 h)", forge(official_id, exp=now + 25 * HOUR), "token_lifetime_exceeded"),
        ("lives 25 h, no iat", forge(official_id, iat=DROP, exp=now + 25 * HOUR), "token_lifetime_exceeded"),
        ("a future iat hiding 25 h", forge(official_id, iat=now + 20, exp=now + 25 * HOUR), "token_lifetime_exceeded"),
        ("iat a numeric string", forge(official_id, iat=str(now)), "invalid_token"),
        ("another application's aud", forge(official_id, aud="another-app"), "invalid_token"),
        ("no aud", forge(official_id, aud=DROP), "invalid_token"),
        ("no jti", forge(official_id, jti=DROP), "invalid_token"),
        ("a revoked jti", forge(official_id, jti=revoked_jti), "token_revoked"),
        ("a person's token claiming 30 days", forge(official_id, exp=now + 30 * 24 * HOUR), "token_lifetime_exceeded"),
        (
            "a service token over its 30 days",
            forge(official_id, kind="service", exp=now + 31 * 24 * HOUR),
            "token_lifetime_exceeded",
        ),
    ]


def admin(stack: Stack) -> str:
    return next(o.id for o in stack.officials if o.role.value == "admin")


async def revoke(stack: Stack, jti: str) -> None:
    async with stack.sessions() as session, session.begin():
        await revoke_token(session, jti, reason="the test", now=utcnow())


async def me(stack: Stack, token: str) -> httpx.Response:
    return await stack.http.get("/v1/me", headers={"Authorization": f"Bearer {token}"})


async def page_sign_in(stack: Stack, token: str) -> tuple[int, bool]:
    """The pages' sign-in posted `token` from a fresh browser: its status, and whether it opened a session."""
    async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=30) as browser:
        page = await browser.post("/web/signin", data={"token": token})
        return page.status_code, SESSION_COOKIE in browser.cookies


@pytest.mark.scenario(SCENARIO_TOKENS)
async def test_each_forged_or_over_long_token_is_refused_with_its_code(stack: Stack, fault_report: Any) -> None:
    official = admin(stack)
    assert (await me(stack, forge(official))).status_code == 200  # the forge itself makes good tokens
    revoked = uuid.uuid4().hex
    assert (await me(stack, forge(official, jti=revoked))).status_code == 200
    await revoke(stack, revoked)

    rows = table(official, revoked)
    wrong = []
    for row, token, code in rows:
        resp = await me(stack, token)
        body = resp.json() if resp.headers.get("content-type", "").startswith("application/") else {}
        if resp.status_code != 401 or body.get("code") != code:
            wrong.append(f"{row}: expected 401 {code}, got {resp.status_code} {resp.text[:200]}")
        status, opened = await page_sign_in(stack, token)
        if status != 401 or opened:
            wrong.append(f"{row}: the pages' sign-in answered {status}")
    assert not wrong, "\n".join(wrong)
    fault_report(tokens=len(rows), refused=len(rows) - len(wrong))


@pytest.mark.scenario(SCENARIO_TOKENS)
async def test_a_service_token_lives_up_to_its_own_cap_and_a_person_token_up_to_the_person_cap(
    stack: Stack, fault_report: Any
) -> None:
    official = admin(stack)
    now = utcnow()
    service = issue_token(official, secret=SECRET, issuer="xptt", now=now, ttl=timedelta(days=30), service=True)
    resp = await me(stack, service)
    assert resp.status_code == 200, resp.text
    person = issue_token(official, secret=SECRET, issuer="xptt", now=now, ttl=timedelta(hours=24))
    assert (await me(stack, person)).status_code == 200
    # the same 30 days without the service mark is a person's token over its cap
    problem(await me(stack, forge(official, exp=int(now.timestamp()) + 30 * 24 * HOUR)), 401, "token_lifetime_exceeded")
    # a service token is for the API: the pages' sign-in is for people
    assert await page_sign_in(stack, service) == (401, False)
    fault_report(service_days=30, person_hours=24)


@pytest.mark.scenario(SCENARIO_TOKENS)
async def test_revoking_a_token_refuses_it_and_ends_the_page_session_it_opened(
    stack: Stack, browser: httpx.AsyncClient, fault_report: Any
) -> None:
    jti = uuid.uuid4().hex
    token = forge(admin(stack), jti=jti)
    signed_in = await browser.post("/web/signin", data={"token": token})
    assert signed_in.status_code == 303, signed_in.text
    assert (await browser.get("/web/tasks")).status_code == 200
    await revoke(stack, jti)
    problem(await me(stack, token), 401, "token_revoked")
    ended = await browser.get("/web/tasks")
    assert ended.status_code == 303 and ended.headers["location"] == "/web/signin"
    fault_report(revoked=1)
