"""Benchmark: inbox latency — `GET /v1/tasks` with filters over 100,000 open tasks, 50 officials at once.

    .venv/bin/python -m bench.inbox [--tasks 100000] [--clients 50] [--seconds 30] [--rate 6] [--api-workers 1]
                                    [--profile]

Seeded in SQL (bench/inbox_seed.py): the 34 real provinces and 10,035 synthetic units, one open case per unit and
round with one open task each, the tasks of the earlier stages completed, and the officials of every unit and
province with their roles.

Each client is a different official (commune roles of a unit, province roles of the larger provinces) with its own
keep-alive connections, and asks what that official asks: `mine=true`, a stage filter, overdue only, the province-
or unit-wide view (`mine=false`), a unit filter, escalations, and a first page followed by its `X-Next-Cursor` page.

Two phases, reported apart (bench/inbox_load.py):
- closed loop: every client sends its next request as soon as the previous one answers, for `--seconds`. On two
  shared cores this measures queueing behind 49 other requests as much as the service time of one;
- open loop: each client sends `--rate` requests a second (6: 300 a second from 50 clients, next pages on top) on
  a fixed schedule whether or not the previous one answered; the latency is counted from the scheduled moment, so
  time spent waiting to be sent counts too.

Every latency and every answer other than 200 (or a failed request) is recorded. Also: CPU seconds by process (the
API and its workers, PostgreSQL, this benchmark), `EXPLAIN (ANALYZE, BUFFERS)` of the inbox SQL of each request kind
for a sample official, and with `--profile` a py-spy profile of the API during the closed loop.

Writes bench/results/inbox.json (or --out NAME).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import subprocess
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bench.inbox_load import (
    HttpClient,
    Recorder,
    children,
    closed_loop,
    cpu_now,
    event_loop_runner,
    load_average,
    open_loop,
    phase_figures,
    quantiles_ms,
)
from bench.inbox_seed import STAGES, UNITS, seed
from bench.profile import PROFILES, Profile, py_spy
from bench.round_open import synthetic_units
from bench.stack import JWT_SECRET, Stack, bench_stack, cpu_seconds, write_result
from domain.stages import Stage
from infra.tokens import issue_token
from services.access import principal_of
from services.inbox import cursor as cursors
from services.inbox.queries import inbox_statement

__all__ = ["cpu_now", "load_average", "quantiles_ms"]  # bench/board.py takes them from here
INBOX = "/v1/tasks?"


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


# -- the officials' clients --------------------------------------------------------------------------------------------
class Client:
    """One official: their token, their own random mix of requests and their own connections (`HttpClient`)."""

    def __init__(self, base_url: str, official: Official, seed: int) -> None:
        token = issue_token(
            official.id, secret=JWT_SECRET, issuer="xptt", now=datetime.now(UTC), ttl=timedelta(hours=2)
        )
        self.official = official
        self.rng = random.Random(seed)
        self.http = HttpClient(base_url, {"Authorization": f"Bearer {token}"})

    async def one(self, rec: Recorder, started: float | None = None) -> None:
        """One inbox request of the official's mix (and its next page when the kind follows the cursor)."""
        kind, params, follow = request_for(self.official, self.rng)
        t0 = time.perf_counter() if started is None else started
        answer = await self.http.get(INBOX + urlencode(params, doseq=True))
        rec.add(kind, time.perf_counter() - t0, answer.status, answer.why)
        token = answer.headers.get(b"x-next-cursor")
        if follow and answer.status == 200 and token:
            t1 = time.perf_counter()
            answer = await self.http.get(INBOX + urlencode({**params, "cursor": token.decode()}, doseq=True))
            rec.add("next_page", time.perf_counter() - t1, answer.status, answer.why)


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
                api_pid = max(children(api_pid), key=cpu_seconds)  # the busiest worker (not a helper process)
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
                await c.http.close()
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
    parser.add_argument("--rate", type=float, default=6.0, help="open loop: requests a second per client")
    parser.add_argument("--api-workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--api-env", action="append", default=[], help="KEY=VALUE for the API (tuning)")
    parser.add_argument("--profile", action="store_true", help="sample the API with py-spy during the closed loop")
    parser.add_argument("--plans", action="store_true", help="print every EXPLAIN plan in full")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the officials and their requests")
    parser.add_argument("--out", default="inbox", help="result name under bench/results/")
    args = parser.parse_args()
    figures = event_loop_runner()(run(args))
    out = write_result(args.out, figures)
    print_table(figures)
    print(f"written to {out}")


if __name__ == "__main__":
    main()
