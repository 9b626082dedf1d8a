"""Authorisation, route by route: for every route and every role, the official whose scope covers the case (own)
and one whose scope does not (other unit for commune roles, other province for the others). The allowed get 2xx;
every other role and every other unit gets 403, or 404 where the case's existence is private; a missing, expired,
forged or garbled token gets 401 on every route; a refused request changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from db.models import AuditEventRow, CaseRow, TaskRow
from domain.stages import Role, Stage
from infra.tokens import issue_token, utcnow
from tests.api.helpers import ROLES, problem, seed_other_scopes
from tests.builders import case_at_registration
from tests.support import PROVINCE, SECRET, Stack, form_for, fresh_unit, token_for

ADMIN_AUDIT = {Role.ADMIN, Role.AUDITOR}
ANY = set(ROLES)
ROUND_TO_OPEN = "qd06-2019:2034"  # no other test opens this round
OPEN_AHEAD = "4"  # 2034 lies four assessments after the current one: XPTT_ROUNDS_OPEN_AHEAD opens it


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    allowed: set[Role]  # roles of the own scope that succeed
    private: bool  # whether outsiders get 404 (the case's existence is private) rather than 403
    body: Callable[[dict[str, Any]], Any] | None = None
    params: dict[str, str] | None = None
    scoped_listing: bool = False  # a listing: nobody is refused, outsiders just see nothing of the case


def routes() -> list[Route]:
    dry = {"dry_run": True, "reason": "kiểm tra quyền", "filter": {"province": PROVINCE}}
    return [
        Route("GET", "/v1/me", ANY, False),
        Route("GET", "/v1/tasks", ANY, False, params={"mine": "false"}, scoped_listing=True),
        Route("GET", "/v1/tasks/{task}", ANY, True),
        Route("GET", "/v1/cases/{case}", ANY, True),
        Route("GET", "/v1/cases/{case}/timeline", ANY, True),
        # the audit routes (api/routes/audit.py) follow the same rule
        Route("GET", "/v1/audit/cases/{case}/verify", ADMIN_AUDIT, True),
        Route("GET", "/v1/audit/cases/{case}/export", ADMIN_AUDIT, True),
        Route("GET", "/v1/board", ADMIN_AUDIT, False, params={"province": PROVINCE, "failing": "false"}),
        Route("GET", "/v1/rounds/{round}/progress", ADMIN_AUDIT, False, params={"province": PROVINCE}),
        Route("GET", "/v1/rounds/{round}/report", ADMIN_AUDIT, False, params={"province": PROVINCE}),
        Route("GET", "/v1/rounds/{round}/report", ADMIN_AUDIT, False, params={"province": PROVINCE, "format": "csv"}),
        Route("POST", "/v1/bulk/extend-due", {Role.ADMIN}, False, body=lambda c: {**dry, "add_working_days": 5}),
        Route("POST", "/v1/bulk/reassign", {Role.ADMIN}, False, body=lambda c: {**dry, "official_id": c["officer_id"]}),
        Route("POST", "/v1/bulk/remind", {Role.ADMIN}, False, body=lambda c: dry),
        Route("POST", "/v1/bulk/hold", {Role.ADMIN}, False, body=lambda c: dry),
        Route("POST", "/v1/bulk/release", {Role.ADMIN}, False, body=lambda c: dry),
        Route("GET", "/v1/me/notifications", ANY, False),
        Route("POST", "/v1/me/notifications/read", ANY, False, body=lambda c: {"ids": ["nope"]}),
        # the writes last: the allowed official's request changes the case
        Route(
            "POST",
            "/v1/bulk/extend-due",
            {Role.ADMIN},
            False,
            body=lambda c: {
                **dry,
                "dry_run": False,
                "add_working_days": 5,
                "filter": {"province": PROVINCE, "case_ids": [c["case"]]},
            },
        ),
        Route(
            "POST",
            "/v1/tasks/{task}/complete",
            {Role.COMMUNE_OFFICER},
            True,
            body=lambda c: form_for(Stage.REGISTRATION),
        ),
        Route("POST", "/v1/cases/{case}/withdraw", {Role.ADMIN}, True, body=lambda c: {"reason": "sáp nhập đơn vị"}),
        # last: opening a round starts a case per unit, whose projections keep landing afterwards
        Route(
            "POST", "/v1/rounds", {Role.ADMIN}, False, body=lambda c: {"round_id": ROUND_TO_OPEN, "province": PROVINCE}
        ),
    ]


async def _state(stack: Stack, case_id: str) -> tuple[int, int, list[tuple[str, str, Any]]]:
    async with stack.sessions() as session:
        journal = await session.scalar(
            select(func.count()).select_from(AuditEventRow).where(AuditEventRow.case_id == case_id)
        )
        cases = await session.scalar(select(func.count()).select_from(CaseRow))
        tasks = (
            await session.execute(
                select(TaskRow.id, TaskRow.status, TaskRow.due_at, TaskRow.assignee_id)
                .where(TaskRow.case_id == case_id)
                .order_by(TaskRow.id)
            )
        ).all()
    return int(journal or 0), int(cases or 0), [tuple(t) for t in tasks]


async def _call(http: httpx.AsyncClient, route: Route, token: str, ctx: dict[str, Any]) -> httpx.Response:
    path = route.path.format(**ctx)
    body = route.body(ctx) if route.body else None
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await http.request(route.method, path, params=route.params, json=body, headers=headers)


BAD_TOKENS = {
    "missing": "",
    "expired": issue_token(
        f"demo-admin-{PROVINCE}",
        secret=SECRET,
        issuer="xptt",
        now=utcnow() - timedelta(hours=2),
        ttl=timedelta(hours=1),
    ),
    "forged": issue_token(
        f"demo-admin-{PROVINCE}",
        secret="not-the-secret-" + "z" * 32,
        issuer="xptt",
        now=utcnow(),
        ttl=timedelta(hours=1),
    ),
    "garbage": "not.a.jwt",
}


async def test_every_route_admits_exactly_its_roles_in_their_own_scope(
    temporal_env: WorkflowEnvironment,
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XPTT_ROUNDS_OPEN_AHEAD", OPEN_AHEAD)
    async with case_at_registration(temporal_env, database_url, sessions) as (stack, case_id, task):
        own = {o.role: o.id for o in stack.officials}
        other = await seed_other_scopes(sessions, other_unit=fresh_unit())
        ctx = {"case": case_id, "task": task["id"], "round": "qd06-2019:2027", "officer_id": own[Role.COMMUNE_OFFICER]}
        checked = 0
        for route in routes():
            mutating = route.method == "POST" and not (route.body and route.body(ctx).get("dry_run", False))
            refused = [(role, own[role], "own") for role in ROLES if role not in route.allowed]
            refused += [(role, other[role], "other") for role in ROLES]
            before = await _state(stack, case_id)
            for name, token in BAD_TOKENS.items():
                resp = await _call(stack.http, route, token, ctx)
                body = problem(resp, 401, "unauthenticated" if name == "missing" else None)
                assert body["code"] == {"missing": "unauthenticated", "expired": "token_expired"}.get(
                    name, "invalid_token"
                ), (route.path, name, body)
                checked += 1
            for role, official, where in refused:
                resp = await _call(stack.http, route, token_for(official), ctx)
                what = f"{route.method} {route.path} {route.params or ''} as {role.value} ({where})"
                if route.scoped_listing or (route.allowed == ANY and not route.private):
                    assert resp.status_code == 200, f"{what}: {resp.text}"
                    if route.scoped_listing:
                        assert case_id not in {t["case_id"] for t in resp.json()}, what
                    continue
                expected = 404 if (where == "other" and route.private) else 403
                body = problem(resp, expected)
                assert body["code"] in {"forbidden", "task_not_found", "case_not_found"}, (what, body)
                checked += 1
            if mutating:
                assert await _state(stack, case_id) == before, f"a refused {route.method} {route.path} changed state"
            for role in sorted(route.allowed):
                resp = await _call(stack.http, route, token_for(own[role]), ctx)
                what = f"{route.method} {route.path} {route.params or ''} as {role.value}"
                assert 200 <= resp.status_code < 300, f"{what}: {resp.status_code} {resp.text}"
                if route.method == "GET" and route.params and route.params.get("format") == "csv":
                    assert resp.headers["content-type"].startswith("text/csv")
                if route.scoped_listing:
                    assert case_id in {t["case_id"] for t in resp.json()}, what
                checked += 1
        assert checked > 150
        async with stack.sessions() as session:
            case = await session.get(CaseRow, case_id)
            assert case is not None and (case.status, case.outcome) == ("closed", "withdrawn")
        # an admin of another province naming the case without a province: their filter covers only their province
        resp = await stack.http.post(
            "/v1/bulk/hold",
            json={"dry_run": False, "reason": "x", "filter": {"case_ids": [case_id]}},
            headers={"Authorization": f"Bearer {token_for(other[Role.ADMIN])}"},
        )
        assert (resp.status_code, resp.json()["matched"]) == (200, 0)
