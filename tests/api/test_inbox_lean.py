"""The inbox's lean path answers exactly what the plain one did: the SQL compiled once per shape returns the rows
`inbox_statement` returns, its JSON is byte for byte `list[TaskOut]` serialised, and its cursors are the same, for
every kind of official and filter, through the driver (`ReadOnly`) and through a session alike. And the verified
token cache never outlives what can change before a token's exp: the revoked list, the official, the JWKS key."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from pydantic import TypeAdapter
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.auth import AuthError, JwksCache, TokenVerifier
from api.main import create_app
from db.readonly import ReadOnly
from domain.stages import Stage
from infra.settings import Settings
from infra.tokens import claims_of, issue_token, revoke_token, utcnow
from services.access import principal_of
from services.inbox import cursor as cursors
from services.inbox.queries import inbox_statement
from services.inbox.schemas import InboxQuery, TaskOut, task_out
from services.inbox.service import list_tasks, list_tasks_json
from services.seed import demo_officials, seed_officials, seed_units
from tests.api.helpers import problem, serve
from tests.api.test_auth import AUDIENCE, ISSUER, Jwks, rsa_key, sign
from tests.api.test_inbox import FILL, NEIGHBOUR, ROLE_OF, STAGES, UNIT
from tests.support import SECRET, token_for

ROUNDS = 4  # x 104 units x 8 tasks: 3,328 tasks
NOW = datetime.now(UTC).replace(microsecond=0)
TASKS = TypeAdapter(list[TaskOut])

OFFICIALS = [o.id for o in demo_officials("33", UNIT)]
QUERIES: list[dict[str, Any]] = [
    {},
    {"mine": False},
    {"mine": False, "status": "any", "limit": 7},
    {"mine": False, "status": "any", "sort": "-due", "limit": 9},
    {"mine": False, "status": "completed", "stage": [Stage.APPRAISAL, Stage.DECISION]},
    {"mine": False, "status": "cancelled", "sort": "-due"},
    {"overdue": True},
    {"mine": False, "overdue": False, "limit": 11},
    {"mine": False, "escalated": True},
    {"mine": False, "escalated": False, "status": "any", "limit": 13},
    {"escalated_to_me": True},
    {"mine": False, "unit": NEIGHBOUR, "status": "any"},
    {"mine": False, "round": "qd06-2019:3002", "status": "any", "sort": "-due"},
    {"mine": False, "due_after": NOW - timedelta(days=10), "due_before": NOW + timedelta(days=3), "limit": 5},
    {"stage": [Stage.REGISTRATION, Stage.SELF_ASSESSMENT, Stage.COUNCIL_ASSESSMENT]},
]


async def _fill(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        await seed_units(session, "33")
        await seed_officials(session, demo_officials("33", UNIT), "33")
        for stmt in (s for s in FILL.split(";\n") if s.strip()):
            sql = stmt.replace(":stages", ", ".join(f"'{s}'" for s in STAGES)).replace(
                ":roles", ", ".join(f"'{ROLE_OF[s]}'" if s in ROLE_OF else "NULL" for s in STAGES)
            )
            await session.execute(text(sql), {"rounds": ROUNDS, "now": NOW})
        # tasks assigned to someone else and to the officer, which `mine` tells apart
        await session.execute(
            text(
                "UPDATE tasks SET assignee_id = CASE WHEN id LIKE '%1-t01' THEN 'someone' ELSE :me END "
                "WHERE id LIKE '%-t01'"
            ),
            {"me": f"demo-officer-{UNIT}"},
        )


async def _expected(
    session: AsyncSession, who: str, query: InboxQuery, now: datetime
) -> tuple[bytes, str | None, list[TaskOut]]:
    """The page as the inbox answered it before the lean path: the statement, a TaskOut per row, the list
    serialised."""
    principal = await principal_of(session, who)
    assert principal is not None
    after = cursors.decode(query.cursor, sort=query.sort) if query.cursor else None
    stmt = inbox_statement(principal, now=now, after=after, **query.model_dump(exclude={"limit", "cursor"}))
    rows = (await session.execute(stmt.limit(query.limit + 1))).all()
    items = [task_out(row, row.unit_name, row.round_id, now=now) for row in rows[: query.limit]]
    cursor = None
    if len(rows) > query.limit:
        cursor = cursors.encode(cursors.Cursor(sort=query.sort, key=items[-1].due_at, id=items[-1].id))
    return TASKS.dump_json(items), cursor, items


async def test_the_lean_inbox_answers_byte_for_byte_what_the_statement_and_taskout_gave(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _fill(sessions)
    now = datetime.now(UTC)
    pages = nonempty = 0
    reader = ReadOnly(sessions.kw["bind"])
    try:
        async with sessions() as session:
            for who in OFFICIALS:
                principal = await principal_of(session, who)
                assert principal is not None
                for params in QUERIES:
                    query = InboxQuery(**params)
                    for _ in range(3):  # the first pages, each after the cursor of the one before
                        body, cursor, items = await _expected(session, who, query, now)
                        assert await list_tasks_json(reader, principal, query, now=now) == (body, cursor), params
                        assert await list_tasks_json(session, principal, query, now=now) == (body, cursor)
                        page = await list_tasks(session, principal, query, now=now)
                        assert (page.items, page.next_cursor) == (items, cursor)
                        pages += 1
                        nonempty += bool(items)
                        if cursor is None:
                            break
                        query = query.model_copy(update={"cursor": cursor})
    finally:
        await reader.close()
    assert pages > 150 and nonempty > 100  # the cases hold data, and pages after cursors


async def test_a_cached_token_is_refused_once_revoked_or_its_official_deactivated(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await _fill(sessions)
    settings = Settings.model_validate({"DATABASE_URL": database_url, "XPTT_JWT_SECRET": SECRET})
    admin, officer = "demo-admin-33", f"demo-officer-{UNIT}"
    async with serve(create_app(settings, temporal=temporal_env.client)) as http:

        async def inbox(token: str) -> httpx.Response:
            return await http.get("/v1/tasks", params={"mine": "false"}, headers={"Authorization": f"Bearer {token}"})

        revoked, kept = token_for(admin), token_for(admin)
        for token in (revoked, kept, revoked):  # verified once, then remembered
            assert (await inbox(token)).status_code == 200
        async with sessions() as session, session.begin():
            await revoke_token(session, str(claims_of(revoked)["jti"]), reason="the test", now=utcnow())
        problem(await inbox(revoked), 401, "token_revoked")
        assert (await http.get("/v1/me", headers={"Authorization": f"Bearer {revoked}"})).status_code == 401
        assert (await inbox(kept)).status_code == 200

        token = token_for(officer)
        assert (await inbox(token)).status_code == 200
        async with sessions() as session, session.begin():
            await session.execute(text("UPDATE officials SET active = false WHERE id = :id"), {"id": officer})
        problem(await inbox(token), 401, "unknown_official")
        async with sessions() as session, session.begin():  # and their roles are read anew: none now
            await session.execute(text("UPDATE officials SET active = true WHERE id = :id"), {"id": officer})
            await session.execute(text("DELETE FROM role_assignments WHERE official_id = :id"), {"id": officer})
        resp = await inbox(token)
        assert resp.status_code == 200 and resp.json() == []


async def test_a_remembered_token_expires_at_its_exp_with_the_leeway() -> None:
    v = TokenVerifier(Settings.model_validate({"XPTT_JWT_SECRET": SECRET}))
    now = int(time.time())
    # expired 28 s ago: inside the 30 s leeway for two seconds more
    token = jwt.encode(
        {"sub": "demo-admin-33", "iss": "xptt", "aud": "xptt", "iat": now - 600, "exp": now - 28, "jti": "j1"},
        SECRET,
        algorithm="HS256",
    )
    assert (await v.verify(token)).official_id == "demo-admin-33"
    await asyncio.sleep(max(0.0, now + 3 - time.time()))
    with pytest.raises(AuthError) as info:
        await v.verify(token)
    assert info.value.code == "token_expired"
    fresh = issue_token("demo-admin-33", secret=SECRET, issuer="xptt", now=utcnow(), ttl=timedelta(hours=1))
    assert (await v.verify(fresh)).official_id == "demo-admin-33"
    forged = fresh[:-2] + ("AA" if not fresh.endswith("AA") else "BB")  # another text: verified on its own
    with pytest.raises(AuthError):
        await v.verify(forged)


async def test_a_remembered_provider_token_is_refused_once_its_key_leaves_the_jwks(jwks: Jwks) -> None:
    key_a, key_b = rsa_key(), rsa_key()
    jwks.publish("a", key_a, "RS256")
    jwks.publish("b", key_b, "RS256")
    settings = Settings.model_validate(
        {"XPTT_JWKS_URL": jwks.url, "XPTT_JWT_AUDIENCE": AUDIENCE, "XPTT_JWT_ISSUER": ISSUER}
    )
    async with httpx.AsyncClient() as client:
        v = TokenVerifier(settings, jwks=JwksCache(jwks.url, client=client, ttl_seconds=0.5, min_refresh_seconds=0))
        token = sign(key_a, "a")
        assert (await v.verify(token)).official_id == "demo-admin-33"
        assert (await v.verify(token)).official_id == "demo-admin-33"
        jwks.keys = [k for k in jwks.keys if k["kid"] != "a"]  # the provider withdraws key a
        await asyncio.sleep(0.6)  # the cached key set is stale: fetched again at the next use
        with pytest.raises(AuthError) as info:
            await v.verify(token)
        assert "'a'" in info.value.detail
        assert (await v.verify(sign(key_b, "b"))).official_id == "demo-admin-33"


@pytest.fixture
def jwks() -> Iterator[Jwks]:
    server = Jwks()
    yield server
    server.server.shutdown()
