"""Benchmark: inbox latency — `GET /v1/tasks` with filters over 100,000 open tasks, 50 officials at once.

    .venv/bin/python -m bench.inbox [--tasks 100000] [--clients 50] [--seconds 30] [--api-workers 1] [--profile]

Seeded in SQL (no workflow runs): the 34 real provinces and 10,035 synthetic units over them (codes from 40000 up, in
proportion to each province's units today), as many rounds as it takes to give `--tasks` open cases (a unit has one
case per round, a case one open task), each case at a stage of its own with the earlier stages' tasks completed,
open tasks due over about seven weeks around now (about 15% overdue, 2% without a due time, some escalated, a few
assigned), and officials of every kind: each unit's commune officer, council chair and commune chairman, and each
province's appraiser, chairman, provincial chairman, admin and auditor.

Each client is a different official (commune roles of a unit, province roles of the larger provinces) with its own
keep-alive connection, and asks what that official asks: `mine=true`, a stage filter, overdue only, the province-
or unit-wide view (`mine=false`), a unit filter, escalations, and a first page followed by its `X-Next-Cursor` page.

Two phases, reported apart:
- closed loop: every client sends its next request as soon as the previous one answers, for `--seconds`. On two
  shared cores this measures queueing behind 49 other requests as much as the service time of one;
- open loop: each client sends one request a second (`--rate`) on a fixed schedule whether or not the previous one
  answered; the latency is counted from the scheduled moment, so time spent waiting to be sent counts too.

Every latency and every answer other than 200 (or a failed request) is recorded. Also: CPU seconds by process (the
API and its workers, PostgreSQL, this benchmark), `EXPLAIN (ANALYZE, BUFFERS)` of the inbox SQL of each request kind
for a sample official, and with `--profile` a py-spy profile of the API during the closed loop.

Writes bench/results/inbox.json (or --out NAME).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import statistics
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bench.profile import PROFILES, Profile, py_spy
from bench.round_open import insert_places, synthetic_units
from bench.stack import JWT_SECRET, Stack, bench_stack, cpu_seconds, cpu_seconds_by_process, write_result
from domain.stages import Stage
from infra.tokens import issue_token
from services.access import principal_of
from services.inbox import cursor as cursors
from services.inbox.queries import inbox_statement

UNITS = 10035
FIRST_YEAR = 2027

# (stage, role, share of the open cases in percent): where a round's cases stand on a day of the window.
STAGES = [
    ("registration", "commune_officer", 10),
    ("self_assessment", "commune_officer", 20),
    ("council_assessment", "council_chair", 12),
    ("public_posting", "commune_officer", 10),
    ("dossier_submission", "commune_officer", 20),
    ("appraisal", "appraiser", 13),
    ("decision", "chairman", 10),
    ("commendation", "chairman", 5),  # one in five of these goes to the provincial chairman
]
ESCALATES_TO = {"commune_officer": "commune_chairman", "council_chair": "commune_chairman", "appraiser": "chairman"}


def _stage_case() -> str:
    """SQL: the stage number (1-8) of a case from the hash h of its id, by the shares above."""
    arms, upper = [], 0
    for n, (_, _, share) in enumerate(STAGES, start=1):
        upper += share
        arms.append(f"WHEN h % 100 < {upper} THEN {n}")
    return "CASE " + " ".join(arms) + " END"


SEED_SQL = [
    # rounds: as many as it takes for the open cases (one per unit and round)
    """
    INSERT INTO rounds (id, rule_set_id, profile_id, year, period_start, period_end)
    SELECT 'qd06-2019:' || (:first_year + r), 'qd06-2019', 'two-tier', :first_year + r,
           make_date(:first_year + r, 1, 1), make_date(:first_year + r, 12, 31)
    FROM generate_series(0, :rounds - 1) AS r
    """,
    # cases: the first :tasks (unit, round) pairs, each at a stage drawn from its id
    f"""
    INSERT INTO cases (id, unit_code, province_code, round_id, rule_set_id, profile_id, locality_type, stage, status,
                       last_seq, opened_at, updated_at)
    SELECT id, code, province_code, round_id, 'qd06-2019', 'two-tier', locality_type,
           (ARRAY[:stages])[{_stage_case()}], 'open', 1, CAST(:now AS timestamptz) - interval '60 days', :now
    FROM (
        SELECT 'qd06-2019:' || (:first_year + r) || '-' || u.code AS id, u.code, u.province_code, u.locality_type,
               'qd06-2019:' || (:first_year + r) AS round_id,
               abs(hashtext(u.code || ':' || r)) AS h
        FROM generate_series(0, :rounds - 1) AS r CROSS JOIN units u
        ORDER BY r, u.code
        LIMIT :tasks
    ) c
    """,
    # the open task of each case, at its stage
    """
    INSERT INTO tasks (id, case_id, stage, role, unit_code, province_code, status, assignee_id, escalation_level,
                       escalated_to, created_at, due_at)
    SELECT c.id || '-t' || lpad(n::text, 2, '0'), c.id, c.stage, t.role, c.unit_code, c.province_code, 'open',
           CASE WHEN t.role = 'commune_officer' AND d % 33 = 0 THEN 'bench-officer-' || c.unit_code END,
           CASE WHEN t.overdue AND d % 3 = 0 AND t.role IN ('commune_officer', 'council_chair', 'appraiser')
                THEN 1 ELSE 0 END,
           CASE WHEN t.overdue AND d % 3 = 0 THEN (CAST(:escalates AS jsonb) ->> t.role) END,
           CAST(:now AS timestamptz) - make_interval(days => 1 + d % 20),
           t.due_at
    FROM cases c
    CROSS JOIN LATERAL (SELECT array_position(ARRAY[:stages], c.stage) AS n,
                               abs(hashtext(c.id || '|due')) AS d) k
    CROSS JOIN LATERAL (
        SELECT CASE WHEN c.stage = 'commendation' AND d % 5 = 0 THEN 'provincial_chairman'
                    ELSE (ARRAY[:roles])[n] END AS role,
               CASE WHEN d % 50 = 0 THEN NULL
                    ELSE CAST(:now AS timestamptz) + make_interval(mins => d % 72000 - 10800) END AS due_at,
               d % 50 <> 0 AND d % 72000 < 10800 AS overdue
    ) t
    """,
    # the completed tasks of the stages each case has passed
    """
    INSERT INTO tasks (id, case_id, stage, role, unit_code, province_code, status, escalation_level, created_at,
                       due_at, completed_at, completed_by)
    SELECT c.id || '-t' || lpad(n::text, 2, '0'), c.id, (ARRAY[:stages])[n], (ARRAY[:roles])[n], c.unit_code,
           c.province_code, 'completed', 0,
           CAST(:now AS timestamptz) - make_interval(days => 60 - 6 * n),
           CAST(:now AS timestamptz) - make_interval(days => 50 - 6 * n),
           CAST(:now AS timestamptz) - make_interval(days => 52 - 6 * n),
           'bench-officer-' || c.unit_code
    FROM cases c
    CROSS JOIN LATERAL generate_series(1, array_position(ARRAY[:stages], c.stage) - 1) AS n
    """,
    # officials: each unit's three commune roles, each province's five province roles
    """
    INSERT INTO officials (id, full_name, active)
    SELECT 'bench-' || k || '-' || u.code, 'Cán bộ ' || k || ' ' || u.code, true
    FROM units u CROSS JOIN unnest(ARRAY['officer', 'council', 'cchair']) AS k
    UNION ALL
    SELECT 'bench-' || k || '-' || p.code, 'Cán bộ ' || k || ' tỉnh ' || p.code, true
    FROM provinces p CROSS JOIN unnest(ARRAY['appraiser', 'chairman', 'pchairman', 'admin', 'auditor']) AS k
    """,
    """
    INSERT INTO role_assignments (official_id, role, province_code, unit_code)
    SELECT 'bench-' || k.short || '-' || u.code, k.role, u.province_code, u.code
    FROM units u CROSS JOIN (VALUES ('officer', 'commune_officer'), ('council', 'council_chair'),
                                    ('cchair', 'commune_chairman')) AS k(short, role)
    UNION ALL
    SELECT 'bench-' || k.short || '-' || p.code, k.role, p.code, NULL
    FROM provinces p CROSS JOIN (VALUES ('appraiser', 'appraiser'), ('chairman', 'chairman'),
                                        ('pchairman', 'provincial_chairman'), ('admin', 'admin'),
                                        ('auditor', 'auditor')) AS k(short, role)
    """,
]


async def seed(stack: Stack, tasks: int) -> dict[str, Any]:
    units = synthetic_units(UNITS)
    rounds = math.ceil(tasks / len(units))
    stages = [s for s, _, _ in STAGES]
    roles = [r for _, r, _ in STAGES]
    started = time.monotonic()
    async with stack.sessions() as session, session.begin():
        await insert_places(session, units)
        params = {
            "first_year": FIRST_YEAR,
            "rounds": rounds,
            "tasks": tasks,
            "now": datetime.now(UTC),
            "escalates": json.dumps(ESCALATES_TO),
        }
        for sql in SEED_SQL:
            sql = sql.replace(":stages", ", ".join(f"'{s}'" for s in stages))
            sql = sql.replace(":roles", ", ".join(f"'{r}'" for r in roles))
            await session.execute(text(sql), params)
    async with stack.sessions() as session:
        await session.execute(text("ANALYZE"))
        found = await session.execute(text("SELECT status, count(*) FROM tasks GROUP BY status"))
        counts: dict[str, int] = {status: n for status, n in found}
        overdue = await session.scalar(text("SELECT count(*) FROM tasks WHERE status = 'open' AND due_at < now()"))
        officials = await session.scalar(text("SELECT count(*) FROM officials"))
    return {
        "units": len(units),
        "rounds": rounds,
        "open_tasks": counts.get("open", 0),
        "completed_tasks": counts.get("completed", 0),
        "overdue_open_tasks": overdue,
        "officials": officials,
        "seed_seconds": round(time.monotonic() - started, 1),
    }


# -- the officials the clients are, and what they ask ------------------------------------------------------------------
@dataclass
class Official:
    id: str
    kind: str  # officer | council | cchair | appraiser | chairman | pchairman | admin | auditor
    province: str
    unit: str | None
    units: list[str] = field(default_factory=list)  # units of the province (for the unit filter)


MIX = {  # kind -> clients of that kind among 50 (scaled to --clients)
    "officer": 18,
    "council": 6,
    "cchair": 4,
    "appraiser": 8,
    "chairman": 5,
    "pchairman": 2,
    "admin": 4,
    "auditor": 3,
}
OWN_STAGES = {
    "officer": ["registration", "self_assessment", "public_posting", "dossier_submission"],
    "council": ["council_assessment"],
    "appraiser": ["appraisal"],
    "chairman": ["decision", "commendation"],
    "pchairman": ["commendation"],
}


def officials(n: int, units: list[dict[str, str]], rng: random.Random) -> list[Official]:
    by_province: dict[str, list[str]] = defaultdict(list)
    for u in units:
        by_province[u["province_code"]].append(u["code"])
    largest = sorted(by_province, key=lambda p: -len(by_province[p]))[:8]
    kinds = [k for k, c in MIX.items() for _ in range(c)]
    kinds = [kinds[i * len(kinds) // n] for i in range(n)] if n <= len(kinds) else kinds * (n // len(kinds) + 1)
    out: list[Official] = []
    used_units: set[str] = set()
    province_roles: Counter[str] = Counter()
    for kind in kinds[:n]:
        if kind in ("officer", "council", "cchair"):
            unit = rng.choice([u for u in units if u["code"] not in used_units])
            used_units.add(unit["code"])
            out.append(Official(f"bench-{kind}-{unit['code']}", kind, unit["province_code"], unit["code"]))
        else:
            province = largest[province_roles[kind] % len(largest)]
            province_roles[kind] += 1
            out.append(Official(f"bench-{kind}-{province}", kind, province, None, by_province[province]))
    return out


def request_for(o: Official, rng: random.Random) -> tuple[str, dict[str, Any], bool]:
    """(kind of request, query parameters, follow the next-page cursor)."""
    own = OWN_STAGES.get(o.kind)
    choices: list[tuple[str, dict[str, Any], bool]]
    if o.kind in ("officer", "council"):
        assert own is not None
        choices = [
            ("mine", {"mine": "true"}, False),
            ("mine", {"mine": "true"}, False),
            ("stage", {"mine": "true", "stage": rng.sample(own, k=min(2, len(own)))}, False),
            ("overdue", {"mine": "true", "overdue": "true"}, False),
            ("scope", {"mine": "false"}, False),
            ("cursor", {"mine": "false", "status": "any", "limit": "10"}, True),
        ]
    elif o.kind == "cchair":
        choices = [
            ("escalated_to_me", {"escalated_to_me": "true"}, False),
            ("scope", {"mine": "false"}, False),
            ("overdue", {"mine": "false", "overdue": "true"}, False),
            ("cursor", {"mine": "false", "status": "any", "limit": "10"}, True),
        ]
    elif o.kind in ("appraiser", "chairman", "pchairman"):
        assert own is not None
        choices = [
            ("mine", {"mine": "true"}, False),
            ("mine", {"mine": "true"}, False),
            ("stage", {"mine": "true", "stage": [rng.choice(own)]}, False),
            ("overdue", {"mine": "true", "overdue": "true"}, False),
            ("scope", {"mine": "false"}, False),
            ("unit", {"mine": "false", "status": "any", "unit": rng.choice(o.units)}, False),
            ("cursor", {"mine": "true"}, True),
        ]
        if o.kind == "chairman":
            choices.append(("escalated_to_me", {"escalated_to_me": "true"}, False))
    elif o.kind == "admin":
        choices = [
            ("scope", {"mine": "false"}, False),
            ("overdue", {"mine": "false", "overdue": "true"}, False),
            ("escalated", {"mine": "false", "escalated": "true"}, False),
            ("stage", {"mine": "false", "stage": [rng.choice(OWN_STAGES["officer"])]}, False),
            ("unit", {"mine": "false", "status": "any", "unit": rng.choice(o.units)}, False),
            ("cursor", {"mine": "false"}, True),
        ]
    else:  # auditor
        choices = [
            ("scope", {"mine": "false"}, False),
            ("overdue", {"mine": "false", "overdue": "true"}, False),
            ("stage", {"mine": "false", "stage": [rng.choice([s for s, _, _ in STAGES])]}, False),
            ("unit", {"mine": "false", "status": "any", "unit": rng.choice(o.units)}, False),
            ("cursor", {"mine": "false", "status": "any"}, True),
        ]
    return rng.choice(choices)


# -- the load ----------------------------------------------------------------------------------------------------------
@dataclass
class Sample:
    kind: str
    seconds: float
    status: int  # 0: the request failed (no answer)


@dataclass
class Recorder:
    samples: list[Sample] = field(default_factory=list)
    error_examples: Counter[str] = field(default_factory=Counter)

    def add(self, kind: str, seconds: float, status: int, why: str = "") -> None:
        self.samples.append(Sample(kind, seconds, status))
        if status != 200:
            self.error_examples[f"{status} {why}"[:200]] += 1


class Client:
    def __init__(self, base_url: str, official: Official, seed: int) -> None:
        token = issue_token(
            official.id, secret=JWT_SECRET, issuer="xptt", now=datetime.now(UTC), ttl=timedelta(hours=2)
        )
        self.official = official
        self.rng = random.Random(seed)
        self.http = httpx.AsyncClient(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=20),
        )

    async def one(self, rec: Recorder, started: float | None = None) -> None:
        """One inbox request of the official's mix (and its next page when the kind follows the cursor)."""
        kind, params, follow = request_for(self.official, self.rng)
        t0 = time.perf_counter() if started is None else started
        status, why, headers = await self._get(params)
        rec.add(kind, time.perf_counter() - t0, status, why)
        token = headers.get("x-next-cursor") if headers is not None else None
        if follow and status == 200 and token:
            t1 = time.perf_counter()
            status, why, _ = await self._get({**params, "cursor": token})
            rec.add("next_page", time.perf_counter() - t1, status, why)

    async def _get(self, params: dict[str, Any]) -> tuple[int, str, httpx.Headers | None]:
        try:
            resp = await self.http.get("/v1/tasks", params=params)
        except httpx.HTTPError as exc:
            return 0, f"{type(exc).__name__}: {exc}", None
        if resp.status_code != 200:
            return resp.status_code, resp.text[:150], resp.headers
        resp.json()  # a client reads the answer
        return 200, "", resp.headers


async def closed_loop(clients: list[Client], seconds: float, rec: Recorder) -> float:
    stop = time.monotonic() + seconds

    async def loop(c: Client) -> None:
        while time.monotonic() < stop:
            await c.one(rec)

    t0 = time.monotonic()
    await asyncio.gather(*(loop(c) for c in clients))
    return time.monotonic() - t0


async def open_loop(clients: list[Client], seconds: float, rate: float, rec: Recorder) -> float:
    """Each client sends `rate` requests a second on a fixed schedule (random phase), not waiting for answers; the
    latency runs from the scheduled moment."""
    t0 = time.perf_counter()
    pending: set[asyncio.Task[None]] = set()

    async def schedule(c: Client) -> None:
        at = t0 + c.rng.random() / rate
        while at < t0 + seconds:
            delay = at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.get_running_loop().create_task(c.one(rec, started=at))
            pending.add(task)
            task.add_done_callback(pending.discard)
            at += 1 / rate

    await asyncio.gather(*(schedule(c) for c in clients))
    if pending:
        await asyncio.gather(*pending)
    return time.perf_counter() - t0


def quantiles_ms(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    ordered = sorted(values)

    def q(p: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, max(0, math.ceil(p * len(ordered)) - 1))], 1)

    return {
        "n": len(ordered),
        "p50_ms": q(0.50),
        "p95_ms": q(0.95),
        "p99_ms": q(0.99),
        "max_ms": round(1000 * ordered[-1], 1),
        "mean_ms": round(1000 * statistics.fmean(ordered), 1),
    }


def phase_figures(rec: Recorder, wall: float, cpu: dict[str, float], load_before: str) -> dict[str, Any]:
    """One phase's requests, latencies and errors; the CPU seconds each process spent on it (`cpu`), per request too;
    the load average before it and now, after it."""
    ok = [s.seconds for s in rec.samples]
    errors = [s for s in rec.samples if s.status != 200]
    by_kind: dict[str, list[float]] = defaultdict(list)
    for s in rec.samples:
        by_kind[s.kind].append(s.seconds)
    return {
        "requests": len(rec.samples),
        "requests_per_second": round(len(rec.samples) / wall, 1),
        "errors": len(errors),
        "error_examples": dict(rec.error_examples.most_common(5)),
        "latency": quantiles_ms(ok),
        "latency_by_kind": {k: quantiles_ms(v) for k, v in sorted(by_kind.items())},
        "seconds": round(wall, 1),
        "cpu_seconds": cpu,
        "cpu_ms_per_request": {k: round(1000 * v / max(1, len(rec.samples)), 2) for k, v in cpu.items()},
        "load_average_before": load_before,
        "load_average_after": load_average(),
    }


# -- CPU of the API's process tree -------------------------------------------------------------------------------------
def _children(pid: int) -> Iterator[int]:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(stat[1]) == pid:
                    yield int(entry.name)
                    yield from _children(int(entry.name))


async def _own_postgres(stack: Stack) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend connected to the benchmark's database (the API's pool, ours, parallel
    workers): not the other databases and servers on the machine."""
    async with stack.sessions() as session:
        pids = (
            await session.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"))
        ).scalars()
        return {int(pid): cpu_seconds(int(pid)) for pid in pids}


@dataclass
class Cpu:
    processes: dict[str, float]
    backends: dict[int, float]

    def since(self, before: Cpu) -> dict[str, float]:
        out = {k: round(v - before.processes.get(k, 0.0), 1) for k, v in self.processes.items()}
        # a backend that started meanwhile counts from zero; one that ended is lost (parallel workers: little)
        out["postgres"] = round(sum(v - before.backends.get(pid, 0.0) for pid, v in self.backends.items()), 1)
        return out


async def cpu_now(stack: Stack) -> Cpu:
    out = cpu_seconds_by_process(stack)
    api = stack.procs["api"].pid
    out["api"] = cpu_seconds(api) + sum(
        cpu_seconds(p) for p in _children(api)
    )  # uvicorn's workers are children of its pid
    return Cpu({k: out[k] for k in ("api", "bench")}, await _own_postgres(stack))


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# -- EXPLAIN of each request kind --------------------------------------------------------------------------------------
async def explain(stack: Stack, sample: dict[str, Official]) -> dict[str, Any]:
    """EXPLAIN (ANALYZE, BUFFERS) of the inbox SQL the API runs, for one official of each kind and each request."""
    out: dict[str, Any] = {}
    now = datetime.now(UTC)
    async with stack.sessions() as session:
        for kind, o in sample.items():
            principal = await principal_of(session, o.id)
            assert principal is not None
            rng = random.Random(1)
            seen: set[str] = set()
            for _ in range(40):
                name, params, follow = request_for(o, rng)
                if name in seen:
                    continue
                seen.add(name)
                args: dict[str, Any] = {
                    "mine": params.get("mine", "true") == "true",
                    "status": params.get("status", "open"),
                    "stage": [Stage(s) for s in params["stage"]] if "stage" in params else None,
                    "overdue": True if params.get("overdue") == "true" else None,
                    "escalated": True if params.get("escalated") == "true" else None,
                    "escalated_to_me": params.get("escalated_to_me") == "true",
                    "unit": params.get("unit"),
                }
                limit = int(params.get("limit", 50))
                stmt = inbox_statement(principal, now=now, **args).limit(limit + 1)
                ms, plan = await _explain(session, stmt)
                out[f"{kind}:{name}"] = {"execution_ms": ms, "plan": plan}
                if follow:
                    last = (await session.execute(stmt)).all()
                    if len(last) > limit:
                        task = last[limit - 1]
                        after = cursors.Cursor(sort="due", key=task.due_at, id=task.id)
                        stmt = inbox_statement(principal, now=now, after=after, **args).limit(limit + 1)
                        ms, plan = await _explain(session, stmt)
                        out[f"{kind}:next_page"] = {"execution_ms": ms, "plan": plan}
    return out


async def _explain(session: AsyncSession, stmt: Select[*tuple[Any, ...]]) -> tuple[float, list[str]]:
    sql = str(stmt.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}))
    lines = [r[0] for r in (await session.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql))).all()]
    ms = next(float(line.split(":")[1].split()[0]) for line in lines if line.startswith("Execution Time"))
    return ms, lines


class GilProfile(Profile):
    """py-spy counting only the thread that holds the GIL: the API's Python CPU time, not its waits in system calls
    (on an overloaded machine a socket write that wakes PostgreSQL is often where the process loses the core)."""

    def __enter__(self) -> GilProfile:
        PROFILES.mkdir(parents=True, exist_ok=True)
        args = [py_spy(), "record", "--pid", str(self.pid), "--format", "raw", "--rate", str(self.rate), "--gil"]
        args += ["--nonblocking", "--output", str(self.path)]
        self._proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self


# -- the run -----------------------------------------------------------------------------------------------------------
async def run(args: argparse.Namespace) -> dict[str, Any]:
    api_env = dict(kv.split("=", 1) for kv in args.api_env)
    async with bench_stack() as stack:
        seeded = await seed(stack, args.tasks)
        print(f"seeded: {seeded}", flush=True)
        rng = random.Random(args.seed)
        units = synthetic_units(UNITS)
        who = officials(args.clients, units, rng)
        sample: dict[str, Official] = {}
        for o in who:
            sample.setdefault(o.kind, o)
        plans = await explain(stack, sample)
        print("EXPLAIN (ANALYZE, BUFFERS), execution time of the inbox SQL by official kind and request:")
        for name, p in plans.items():
            print(f"  {name:32} {p['execution_ms']:8.2f} ms")
        if args.plans:
            for name, p in plans.items():
                print(f"-- {name}\n" + "\n".join(p["plan"]))

        base_url = stack.start_api(workers=args.api_workers, extra_env=api_env)
        clients = [Client(base_url, o, args.seed + i) for i, o in enumerate(who)]
        try:
            await closed_loop(clients, 3, Recorder())  # warm-up: connections, caches, plans
            figures: dict[str, Any] = {}

            rec = Recorder()
            load_before = load_average()
            cpu0 = await cpu_now(stack)
            api_pid = stack.procs["api"].pid
            if args.profile and args.api_workers > 1:
                api_pid = next(_children(api_pid))
            profiler = GilProfile(api_pid, "inbox_api") if args.profile else contextlib.nullcontext()
            with profiler:
                wall = await closed_loop(clients, args.seconds, rec)
            cpu1 = await cpu_now(stack)
            figures["closed_loop"] = phase_figures(rec, wall, cpu1.since(cpu0), load_before)
            if isinstance(profiler, Profile):
                figures["profile"] = profiler.summary(top=20)

            rec = Recorder()
            load_before = load_average()
            cpu0 = await cpu_now(stack)
            wall = await open_loop(clients, args.seconds, args.rate, rec)
            cpu1 = await cpu_now(stack)
            figures["open_loop"] = phase_figures(rec, wall, cpu1.since(cpu0), load_before)
        finally:
            for c in clients:
                await c.http.aclose()
    return {
        "benchmark": "inbox",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "clients": args.clients,
        "seconds_per_phase": args.seconds,
        "api_workers": args.api_workers,
        "api_env": api_env,
        "seeded": seeded,
        "closed_loop_note": "each client sends its next request when the previous one answers: latency includes "
        "queueing behind the other clients on the shared cores",
        "open_loop_note": f"each client sends {args.rate} request(s) a second on a fixed schedule; latency from the "
        "scheduled moment",
        "closed_loop": figures["closed_loop"],
        "open_loop": figures["open_loop"],
        "explain_execution_ms": {k: p["execution_ms"] for k, p in plans.items()},
        "explain_plans": {k: p["plan"] for k, p in plans.items()},
        **({"profile": figures["profile"]} if "profile" in figures else {}),
        "cpu_count": os.cpu_count(),
        "git": _git(),
    }


def _git() -> str:
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        return subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], text=True).strip()
    return ""


def print_table(f: dict[str, Any]) -> None:
    print(
        f"\ninbox latency: {f['seeded']['open_tasks']} open tasks, {f['clients']} clients, "
        f"{f['api_workers']} API worker(s) {f['api_env'] or ''}"
    )
    head = f"{'phase':34} {'req/s':>7} {'errors':>6} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}"
    head += "  cpu ms/request (api/pg/bench)  load"
    print(head)
    for phase, label in (("closed_loop", "closed loop (as fast as answered)"), ("open_loop", "open loop (fixed rate)")):
        p = f[phase]
        lat = p["latency"]
        cpu = p["cpu_ms_per_request"]
        print(
            f"{label:34} {p['requests_per_second']:7.1f} {p['errors']:6d} {lat['p50_ms']:7.1f} {lat['p95_ms']:7.1f} "
            f"{lat['p99_ms']:7.1f} {lat['max_ms']:7.1f}  {cpu['api']:5.2f}/{cpu['postgres']:5.2f}/{cpu['bench']:5.2f}"
            f"           {p['load_average_before']}"
        )
    for phase in ("closed_loop", "open_loop"):
        print(f"{phase} by request kind (ms):")
        for kind, q in f[phase]["latency_by_kind"].items():
            print(f"  {kind:18} n={q['n']:6d}  p50 {q['p50_ms']:7.1f}  p95 {q['p95_ms']:7.1f}  p99 {q['p99_ms']:7.1f}")
        if f[phase]["errors"]:
            print(f"  errors: {f[phase]['error_examples']}")
    if "profile" in f:
        print(f["profile"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000, help="open tasks (one open case each)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent officials")
    parser.add_argument("--seconds", type=float, default=30, help="length of each phase")
    parser.add_argument("--rate", type=float, default=1.0, help="open loop: requests a second per client")
    parser.add_argument("--api-workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--api-env", action="append", default=[], help="KEY=VALUE for the API (tuning)")
    parser.add_argument("--profile", action="store_true", help="sample the API with py-spy during the closed loop")
    parser.add_argument("--plans", action="store_true", help="print every EXPLAIN plan in full")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the officials and their requests")
    parser.add_argument("--out", default="inbox", help="result name under bench/results/")
    args = parser.parse_args()
    figures = asyncio.run(run(args))
    out = write_result(args.out, figures)
    print_table(figures)
    print(f"written to {out}")


if __name__ == "__main__":
    main()
