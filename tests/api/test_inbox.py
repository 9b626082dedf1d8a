"""The inbox over 100,000 tasks: every filter answers what the data says, in due-time order, and keyset pages
neither skip nor repeat a task — also while new tasks are inserted between the pages."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from db.models import TaskRow
from domain.stages import Stage
from domain.units import load_units
from infra.settings import Settings
from services.seed import demo_officials, seed_officials, seed_units
from tests.api.helpers import problem, serve
from tests.support import SECRET, token_for

UNIT = "11953"
NEIGHBOUR = load_units("33")[5].code
ROUNDS = 121  # x 104 units = 12,584 cases, 8 tasks each: 100,672 tasks
STAGES = [stage.value for stage in Stage if stage is not Stage.CLOSED]  # each stage a task can be at
ROLE_OF = {
    "council_assessment": "council_chair",
    "appraisal": "appraiser",
    "decision": "chairman",
    "commendation": "chairman",
}
NOW = datetime.now(UTC).replace(microsecond=0)

FILL = """
INSERT INTO rounds (id, rule_set_id, profile_id, year, period_start, period_end)
SELECT 'qd06-2019:' || (3000 + r), 'qd06-2019', 'two-tier', 3000 + r, DATE '2027-01-01', DATE '2027-12-31'
FROM generate_series(0, :rounds - 1) AS r;

INSERT INTO cases (id, unit_code, province_code, round_id, rule_set_id, profile_id, locality_type, stage, status,
                   last_seq, opened_at, updated_at)
SELECT 'qd06-2019:' || (3000 + r) || '-' || u.code, u.code, u.province_code, 'qd06-2019:' || (3000 + r),
       'qd06-2019', 'two-tier', u.locality_type, 'registration', 'open', 1, :now, :now
FROM units u CROSS JOIN generate_series(0, :rounds - 1) AS r WHERE u.province_code = '33';

INSERT INTO tasks (id, case_id, stage, role, unit_code, province_code, status, created_at, due_at, escalation_level)
SELECT c.id || '-t' || lpad(n::text, 2, '0'), c.id, s.stages[n], coalesce(s.roles[n], 'commune_officer'),
       c.unit_code, c.province_code,
       CASE WHEN h % 10 < 3 THEN 'open' WHEN h % 10 < 9 THEN 'completed' ELSE 'cancelled' END,
       CAST(:now AS timestamptz) - interval '90 days',
       CASE WHEN h % 50 = 0 THEN NULL
            ELSE CAST(:now AS timestamptz) + make_interval(hours => (h % 2881) - 1440) END,  -- 2,881 due times: ties
       CASE WHEN h % 17 = 0 THEN 1 ELSE 0 END
FROM cases c
CROSS JOIN generate_series(1, 8) AS n
CROSS JOIN (SELECT ARRAY[:stages] AS stages, ARRAY[:roles] AS roles) s
CROSS JOIN LATERAL (SELECT abs(hashtext(c.id || n)) AS h) hh;
"""


@dataclass(frozen=True)
class Row:
    id: str
    case_id: str
    stage: str
    role: str
    unit_code: str
    status: str
    due_at: datetime | None
    escalation_level: int

    @property
    def round_id(self) -> str:
        return self.case_id.rsplit("-", 1)[0]


async def _fill(sessions: async_sessionmaker[AsyncSession]) -> list[Row]:
    async with sessions() as session, session.begin():
        await seed_units(session, "33")
        await seed_officials(session, demo_officials("33", UNIT), "33")
        stmts = [s for s in FILL.split(";\n") if s.strip()]
        for stmt in stmts:
            sql = stmt.replace(":stages", ", ".join(f"'{s}'" for s in STAGES)).replace(
                ":roles", ", ".join(f"'{ROLE_OF[s]}'" if s in ROLE_OF else "NULL" for s in STAGES)
            )
            await session.execute(text(sql), {"rounds": ROUNDS, "now": NOW})
        await session.execute(text("ANALYZE"))
    async with sessions() as session:
        rows = (
            await session.execute(
                select(
                    TaskRow.id,
                    TaskRow.case_id,
                    TaskRow.stage,
                    TaskRow.role,
                    TaskRow.unit_code,
                    TaskRow.status,
                    TaskRow.due_at,
                    TaskRow.escalation_level,
                )
            )
        ).all()
    return [Row(*r) for r in rows]


@pytest.fixture
async def inbox(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[tuple[httpx.AsyncClient, list[Row]]]:
    rows = await _fill(sessions)
    assert len(rows) >= 100_000
    settings = Settings.model_validate({"DATABASE_URL": database_url, "XPTT_JWT_SECRET": SECRET})
    async with serve(create_app(settings, temporal=temporal_env.client)) as http:
        yield http, rows


def _order(rows: list[Row], descending: bool) -> list[str]:
    far = datetime.max.replace(tzinfo=UTC)
    ordered = sorted(rows, key=lambda r: (r.due_at or far, r.id), reverse=descending)
    return [r.id for r in ordered]


async def _walk(http: httpx.AsyncClient, who: str, params: dict[str, Any], limit: int = 500) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    cursor = None
    headers = {"Authorization": f"Bearer {token_for(who)}"}
    while True:
        resp = await http.get(
            "/v1/tasks", params={**params, "limit": limit, **({"cursor": cursor} if cursor else {})}, headers=headers
        )
        assert resp.status_code == 200, resp.text
        page = resp.json()
        seen += page
        cursor = resp.headers.get("x-next-cursor")
        if cursor is None:
            assert len(page) <= limit
            return seen
        assert len(page) == limit


ADMIN, OFFICER = "demo-admin-33", f"demo-officer-{UNIT}"


async def test_inbox_filters_and_orders_100k_tasks_exactly_as_the_data_says(
    inbox: tuple[httpx.AsyncClient, list[Row]],
) -> None:
    http, rows = inbox
    now = datetime.now(UTC)
    window = (NOW - timedelta(days=10), NOW + timedelta(days=3))
    cases: list[tuple[str, dict[str, Any], Any]] = [
        # every task of the province, soonest first, all 100,672 of them, page by page
        (ADMIN, {"mine": "false", "status": "any"}, lambda r: True),
        (
            ADMIN,
            {"mine": "false", "status": "any", "sort": "-due", "stage": ["appraisal", "decision"]},
            lambda r: r.stage in ("appraisal", "decision"),
        ),
        (
            ADMIN,
            {"mine": "false", "overdue": "true", "escalated": "true"},
            lambda r: r.status == "open" and r.due_at is not None and r.due_at < now and r.escalation_level > 0,
        ),
        (
            ADMIN,
            {
                "mine": "false",
                "due_after": window[0].isoformat(),
                "due_before": window[1].isoformat(),
                "unit": NEIGHBOUR,
            },
            lambda r: (
                r.status == "open"
                and r.unit_code == NEIGHBOUR
                and r.due_at is not None
                and window[0] <= r.due_at < window[1]
            ),
        ),
        (
            ADMIN,
            {"mine": "false", "round": "qd06-2019:3007", "status": "completed"},
            lambda r: r.round_id == "qd06-2019:3007" and r.status == "completed",
        ),
        # the commune officer: only their unit's tasks of their role
        (OFFICER, {}, lambda r: r.status == "open" and r.unit_code == UNIT and r.role == "commune_officer"),
        (
            OFFICER,
            {"overdue": "false", "sort": "-due"},
            lambda r: (
                r.status == "open"
                and r.unit_code == UNIT
                and r.role == "commune_officer"
                and (r.due_at is None or r.due_at >= now)
            ),
        ),
        # the appraiser's own tasks across the province
        ("demo-appraiser-33", {"stage": "appraisal"}, lambda r: r.status == "open" and r.role == "appraiser"),
    ]
    for who, params, keep in cases:
        expected = _order([r for r in rows if keep(r)], params.get("sort") == "-due")
        got = [t["id"] for t in await _walk(http, who, params)]
        assert len(got) == len(set(got)), f"{who} {params}: a task repeats"
        assert got == expected, f"{who} {params}: {len(got)} tasks, expected {len(expected)}"
        assert expected, f"{who} {params}: the case tests nothing"


async def test_pages_neither_skip_nor_repeat_while_tasks_are_inserted(
    inbox: tuple[httpx.AsyncClient, list[Row]], sessions: async_sessionmaker[AsyncSession]
) -> None:
    http, rows = inbox
    before = {r.id for r in rows if r.status == "open"}
    inserted: list[str] = []
    stop = asyncio.Event()

    async def insert_tasks() -> None:
        n = 0
        while not stop.is_set():
            async with sessions() as session, session.begin():
                for _ in range(20):
                    n += 1
                    case = f"qd06-2019:{3000 + n % ROUNDS}-{UNIT}"
                    due = NOW + timedelta(hours=(n * 37) % 2881 - 1440)  # before and after the pages already read
                    await session.execute(
                        text(
                            "INSERT INTO tasks (id, case_id, stage, role, unit_code, province_code, status, "
                            "created_at, due_at) VALUES (:id, :case, 'appraisal', 'appraiser', :unit, '33', 'open', "
                            ":now, :due)"
                        ),
                        {"id": f"{case}-new{n:05d}", "case": case, "unit": UNIT, "now": NOW, "due": due},
                    )
                    inserted.append(f"{case}-new{n:05d}")
            await asyncio.sleep(0.01)

    writer = asyncio.create_task(insert_tasks())
    try:
        seen = [t["id"] for t in await _walk(http, ADMIN, {"mine": "false"}, limit=200)]
    finally:
        stop.set()
        await writer
    assert len(inserted) > 100, "the writer barely ran"
    assert len(seen) == len(set(seen)), "a task was served twice"
    assert before <= set(seen), f"{len(before - set(seen))} tasks present all along were skipped"
    assert set(seen) - before <= set(inserted)


async def test_a_forged_or_foreign_cursor_is_refused_with_its_reason(
    inbox: tuple[httpx.AsyncClient, list[Row]],
) -> None:
    http, _ = inbox
    headers = {"Authorization": f"Bearer {token_for(ADMIN)}"}
    first = await http.get("/v1/tasks", params={"mine": "false", "limit": 5}, headers=headers)
    cursor = first.headers["x-next-cursor"]
    link = first.headers["link"]
    assert link.endswith('>; rel="next"') and "mine=false" in link and f"cursor={cursor}" in link
    follow = await http.get(link[1 : link.index(">")], headers=headers)
    assert follow.status_code == 200 and len(follow.json()) == 5  # the same query, from the cursor on
    body = problem(
        await http.get("/v1/tasks", params={"mine": "false", "cursor": cursor, "sort": "-due"}, headers=headers),
        422,
        "invalid_cursor",
    )
    assert body["field"] == "cursor" and "sorted by due" in body["detail"]
    for bad in (
        "garbage",
        "e30",
        cursor[:-3] + "xyz",
        "eyJzb3J0IjoiZHVlIiwia2V5IjoiMjAyNy0wMS0wMVQwMDowMDowMCIsImlkIjoieCJ9",
    ):
        problem(
            await http.get("/v1/tasks", params={"mine": "false", "cursor": bad}, headers=headers), 422, "invalid_cursor"
        )
    body = problem(
        await http.get("/v1/tasks", params={"due_before": "2027-01-01T00:00:00"}, headers=headers),
        422,
        "invalid_request",
    )
    assert body["field"] == "query.due_before"
    body = problem(await http.get("/v1/tasks", params={"stage": "tea_break"}, headers=headers), 422, "invalid_request")
    assert "stage" in body["field"]


async def test_inbox_latency_over_100k_tasks(inbox: tuple[httpx.AsyncClient, list[Row]]) -> None:
    """Measured, not only asserted: the first page of the busiest inboxes (printed with -s)."""
    http, _ = inbox
    timings: dict[str, list[float]] = {}
    probes = {
        "admin, whole province, open, by due": (ADMIN, {"mine": "false"}),
        "admin, whole province, any status": (ADMIN, {"mine": "false", "status": "any"}),
        "admin, overdue appraisal": (ADMIN, {"mine": "false", "overdue": "true", "stage": "appraisal"}),
        "appraiser, my tasks": ("demo-appraiser-33", {}),
        "commune officer, my tasks": (OFFICER, {}),
    }
    for name, (who, params) in probes.items():
        headers = {"Authorization": f"Bearer {token_for(who)}"}
        for _ in range(10):
            started = time.perf_counter()
            resp = await http.get("/v1/tasks", params={**params, "limit": 50}, headers=headers)
            timings.setdefault(name, []).append(time.perf_counter() - started)
            assert resp.status_code == 200
    for name, values in timings.items():
        print(
            f"inbox latency {name}: median {statistics.median(values) * 1000:.1f} ms, max {max(values) * 1000:.1f} ms"
        )
        assert statistics.median(values) < 1.0, f"{name} is slow: {values}"
