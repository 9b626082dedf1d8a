"""Benchmark: a national round end to end, every step through the HTTP API as officials take it.

    .venv/bin/python -m bench.national [--provinces all|33,01] [--clients 50] [--api-workers 1] [--mail] [--profile]

The real 2025 units (3,321 in 34 provinces), seeded by the product's own seeding (`services.seed.seed_units`, as
`xptt db seed-units` does), and their officials seeded in SQL: each unit's commune officer, council chair and commune
chairman, each province's appraiser, chairman, provincial chairman and administrator (no email: notices are in-app;
`--mail`: an address each and a local mail sink).
Bearer tokens are minted with the project's token code.

1. opening: each province's administrator opens the round (`POST /v1/rounds`, all provinces at once; a 202 "still
   opening" is asked again, the route is idempotent) as a rehearsal that opens self-assessment today, so that every
   stage is open in turn;
2. driving: `--clients` concurrent clients each take the next case and act as its officials: the official the task
   is for lists their inbox (`GET /v1/tasks?mine=true`, a province role with the unit filter), finds the case's task
   and completes it (`POST /v1/tasks/{id}/complete` with the stage's form and an Idempotency-Key), stage after
   stage to the decision; a case that does not close with its decision (the commendation check) is looked at again
   later (`GET /v1/cases/{id}`) until it closes, and a commendation task it opens is completed the same way;
3. closing: until every province's round report is recorded (`round_reports`).

Figures: wall time in all and by phase, steps per second, latencies by request kind, HTTP errors (any answer but
2xx, or none) apart from 409 conflicts, CPU seconds per process by phase. Checks against PostgreSQL: completed tasks
= steps the clients took, every case closed with no open task, per case a journal without gap or doubled step and
with the expected rows, one report per province counting all its units. Writes bench/results/national.json; exits
1 when a check fails or an error happened.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from bench.national_clients import Case, Recorder, drive
from bench.profile import Profile
from bench.stack import Stack, bench_stack, cpu_delta, cpu_seconds, cpu_seconds_by_process, write_result
from domain.case import case_id_for
from domain.units import load_provinces
from infra.clock import today_vn
from services.seed import seed_units
from tests.support import HUMAN_PATH

ROUND_ID = "qd06-2019:2027"
TARGET_SECONDS = 600
QUICK = ["12", "46"]  # Lai Châu (38 units), Huế (40 units, wards of a central city)
OFFICIALS_SQL = [
    # with --mail an address each (the local mail sink takes every message), else none: in-app notices only
    """
    INSERT INTO officials (id, full_name, email, active)
    SELECT id, name, CASE WHEN :mail THEN id || '@bench.example.invalid' END, true FROM (
        SELECT 'bench-' || k || '-' || u.code AS id, 'Cán bộ ' || k || ' ' || u.code AS name
        FROM units u CROSS JOIN unnest(ARRAY['officer', 'council', 'cchair']) AS k WHERE u.province_code = ANY(:p)
        UNION ALL
        SELECT 'bench-' || k || '-' || p.code, 'Cán bộ ' || k || ' tỉnh ' || p.code
        FROM provinces p CROSS JOIN unnest(ARRAY['appraiser', 'chairman', 'pchairman', 'admin']) AS k
        WHERE p.code = ANY(:p)
    ) o
    """,
    """
    INSERT INTO role_assignments (official_id, role, province_code, unit_code)
    SELECT 'bench-' || k.short || '-' || u.code, k.role, u.province_code, u.code
    FROM units u CROSS JOIN (VALUES ('officer', 'commune_officer'), ('council', 'council_chair'),
                                    ('cchair', 'commune_chairman')) AS k(short, role)
    WHERE u.province_code = ANY(:p)
    UNION ALL
    SELECT 'bench-' || k.short || '-' || p.code, k.role, p.code, NULL
    FROM provinces p CROSS JOIN (VALUES ('appraiser', 'appraiser'), ('chairman', 'chairman'),
                                        ('pchairman', 'provincial_chairman'), ('admin', 'admin')) AS k(short, role)
    WHERE p.code = ANY(:p)
    """,
]


async def seed(stack: Stack, provinces: list[str], mail: bool) -> tuple[list[Case], float]:
    """The units by the product's seeding, the officials in SQL: (the cases the round will open, seconds)."""
    t0 = time.monotonic()
    everything = len(provinces) == len(load_provinces())
    async with stack.sessions() as session, session.begin():
        if everything:
            await seed_units(session, None)
        else:
            for p in provinces:
                await seed_units(session, p)
        for sql in OFFICIALS_SQL:
            await session.execute(text(sql), {"p": provinces, "mail": mail})
        rows = await session.execute(
            text("SELECT code, province_code FROM units WHERE province_code = ANY(:p) ORDER BY code"), {"p": provinces}
        )
        cases = [Case(case_id_for(ROUND_ID, code), code, p) for code, p in rows.all()]
    return cases, time.monotonic() - t0


async def open_rounds(api_url: str, provinces: list[str], rec: Recorder) -> dict[str, Any]:
    """Every province's administrator opens the round at once; a 202 (still opening) is asked again."""
    body = {"round_id": ROUND_ID, "rehearsal_opens_on": today_vn().isoformat()}
    answers: Counter[int] = Counter()

    async def one(http: httpx.AsyncClient, p: str) -> int:
        for _ in range(60):
            admin = f"bench-admin-{p}"
            resp = await rec.call(http, "open", "POST", "/v1/rounds", admin, json={**body, "province": p})
            answers[resp.status_code if resp is not None else 0] += 1
            if resp is not None and resp.status_code == 200:
                return int(resp.json()["cases"])
            if resp is None or not resp.is_success:
                await asyncio.sleep(1)
        raise RuntimeError(f"the round did not open in province {p}: {dict(rec.errors)}")

    async with httpx.AsyncClient(base_url=api_url, timeout=300) as http:
        cases = await asyncio.gather(*(one(http, p) for p in provinces))
    return {"cases_started": sum(cases), "answers": {str(k): v for k, v in sorted(answers.items())}}


async def reports_recorded(stack: Stack) -> int:
    async with stack.sessions() as session:
        found = await session.scalar(text("SELECT count(*) FROM round_reports WHERE round_id = :r"), {"r": ROUND_ID})
        return int(found or 0)


async def wait_for_reports(stack: Stack, provinces: int, limit_s: float) -> bool:
    """Until every province's round report is recorded (True), or `limit_s` has passed (False)."""
    deadline = time.monotonic() + limit_s
    while await reports_recorded(stack) < provinces:
        stack.check_alive()
        if time.monotonic() > deadline:
            print(f"{await reports_recorded(stack)} of {provinces} round reports after {limit_s:.0f} s", flush=True)
            return False
        await asyncio.sleep(0.25)
    return True


CHECK_SQL = {
    "cases": "SELECT count(*) FILTER (WHERE status = 'closed'), count(*) FROM cases WHERE round_id = :r",
    "tasks": """SELECT count(*) FILTER (WHERE t.status = 'completed'), count(*) FILTER (WHERE t.status = 'open')
                FROM tasks t JOIN cases c ON c.id = t.case_id WHERE c.round_id = :r""",
    # a stage of a case completed twice
    "doubled": """SELECT count(*) FROM (SELECT 1 FROM tasks t JOIN cases c ON c.id = t.case_id
                                       WHERE c.round_id = :r AND t.status = 'completed'
                                       GROUP BY t.case_id, t.stage HAVING count(*) > 1) d""",
    # per case: rows, highest seq, rows by an official, distinct tasks they completed
    "journal": """SELECT a.case_id, count(*), max(a.seq), count(*) FILTER (WHERE a.actor_id IS NOT NULL),
                         count(DISTINCT a.task_id) FILTER (WHERE a.actor_id IS NOT NULL)
                  FROM audit_events a JOIN cases c ON c.id = a.case_id WHERE c.round_id = :r GROUP BY a.case_id""",
    "reports": """SELECT r.province_code, (r.report ->> 'units')::int, (r.report ->> 'still_open')::int,
                         (SELECT count(*) FROM units u WHERE u.province_code = r.province_code)
                  FROM round_reports r WHERE r.round_id = :r""",
}


async def checks(stack: Stack, cases: list[Case], provinces: list[str]) -> dict[str, Any]:
    """What PostgreSQL holds against what the clients did; each check with its `ok`."""
    params = {"r": ROUND_ID}
    async with stack.sessions() as session:
        closed, total = (await session.execute(text(CHECK_SQL["cases"]), params)).one()
        completed, still_open = (await session.execute(text(CHECK_SQL["tasks"]), params)).one()
        doubled_tasks = await session.scalar(text(CHECK_SQL["doubled"]), params)
        journal = {row[0]: row[1:] for row in (await session.execute(text(CHECK_SQL["journal"]), params)).all()}
        reports = (await session.execute(text(CHECK_SQL["reports"]), params)).all()
    steps = sum(c.steps for c in cases)
    # A case's journal: its opening, each official's step, the commendation check that closes it.
    wrong_rows = [c.id for c in cases if journal.get(c.id, (0,))[0] != c.steps + 2]
    gaps = [k for k, (rows, top, _, _) in journal.items() if rows != top]
    doubled = [k for k, (_, _, human, distinct) in journal.items() if human != distinct]
    by_official = sum(v[2] for v in journal.values())
    bad_reports = [p for p, units, still, real in reports if units != real or still != 0]
    found = {
        "every_case_closed": {"ok": closed == total == len(cases), "closed": closed, "cases": total},
        "completed_tasks_equal_steps": {
            "ok": completed == steps == by_official,
            "tasks": completed,
            "steps_by_clients": steps,
            "journal_rows_by_officials": by_official,
        },
        "every_case_every_human_stage": {
            "ok": all(c.steps >= len(HUMAN_PATH) for c in cases),
            "fewer": sum(c.steps < len(HUMAN_PATH) for c in cases),
        },
        "no_open_task_left": {"ok": still_open == 0, "open": still_open},
        "no_doubled_step": {"ok": not doubled and doubled_tasks == 0, "journal": doubled[:5], "tasks": doubled_tasks},
        "journal_rows_per_case_expected": {"ok": not wrong_rows, "wrong": len(wrong_rows), "examples": wrong_rows[:5]},
        "journal_without_gap": {"ok": not gaps, "examples": gaps[:5]},
        "one_report_per_province": {
            "ok": len(reports) == len(provinces) and not bad_reports,
            "reports": len(reports),
            "wrong": bad_reports,
        },
    }
    return found


def quantiles_ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {"n": 0}

    def q(p: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, int(p * len(ordered)))], 1)

    return {"n": len(ordered), "p50_ms": q(0.5), "p95_ms": q(0.95), "p99_ms": q(0.99), "max_ms": q(1.0)}


def api_pids(stack: Stack) -> list[int]:
    """The API's process and, with uvicorn --workers, its worker processes (its children) after it."""
    api = stack.procs["api"].pid
    children = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError, ValueError, IndexError):
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == api:
                children.append(int(entry.name))
    return [api, *sorted(children)]


def cpu_now(stack: Stack) -> dict[str, float]:
    """CPU seconds by process, the API's with its worker processes'."""
    out = cpu_seconds_by_process(stack)
    out["api"] = sum(cpu_seconds(pid) for pid in api_pids(stack))
    return out


async def report_progress(cases: list[Case], started: float) -> None:
    """Every 30 s while the clients drive: steps taken, cases decided, cases seen closed (a decided case is read
    again, to see it closed, once the clients come back to it at the end of the queue)."""
    while True:
        await asyncio.sleep(30)
        steps = sum(c.steps for c in cases)
        decided = sum(c.steps >= len(HUMAN_PATH) for c in cases)
        done = sum(c.done for c in cases)
        print(
            f"  {time.monotonic() - started:6.0f} s  {steps} steps, {decided} cases decided, {done} seen closed "
            f"of {len(cases)}",
            flush=True,
        )


async def notifications(stack: Stack) -> dict[str, int]:
    """The outbox by channel and status (in-app notices are delivered by being written)."""
    async with stack.sessions() as session:
        rows = await session.execute(text("SELECT channel, status, count(*) FROM notifications GROUP BY 1, 2"))
        return {f"{channel}:{status}": n for channel, status, n in rows.all()}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    rec = Recorder()
    async with bench_stack() as stack:
        cases, seed_s = await seed(stack, args.provinces, args.mail)
        print(f"seeded {len(cases)} units of {len(args.provinces)} provinces and their officials in {seed_s:.1f} s")
        if args.mail:
            stack.launcher.mail_sink(stack.workdir / "mail")  # before the worker: it sends there
        stack.start_worker()
        api_url = stack.start_api(workers=args.api_workers)
        cpu, at = [cpu_now(stack)], [time.monotonic()]
        opened = await open_rounds(api_url, args.provinces, rec)
        cpu.append(cpu_now(stack))
        at.append(time.monotonic())
        print(f"opening: {at[1] - at[0]:.1f} s, {opened}", flush=True)
        api_pid = api_pids(stack)[-1]  # with several uvicorn workers: one of them
        profilers = [Profile(stack.worker_pid, "national_worker"), Profile(api_pid, "national_api")]
        with contextlib.ExitStack() as profiling:
            for p in profilers if args.profile else []:
                profiling.enter_context(p)
            progress = asyncio.ensure_future(report_progress(cases, at[1]))
            outcomes = await drive(api_url, cases, args.clients, rec)
            progress.cancel()
        cpu.append(cpu_now(stack))
        at.append(time.monotonic())
        print(f"driving: {at[2] - at[1]:.1f} s, cases {dict(outcomes)}", flush=True)
        # a case given up never closes, nor does its province's round: then wait a little only
        every_report = await wait_for_reports(
            stack, len(args.provinces), 900 if outcomes["closed"] == len(cases) else 30
        )
        cpu.append(cpu_now(stack))
        at.append(time.monotonic())
        print(f"closing: {at[3] - at[2]:.1f} s", flush=True)
        found = await checks(stack, cases, args.provinces)
        sent = await notifications(stack)
        emails = len(list((stack.workdir / "mail").glob("*.eml"))) if args.mail else None
    out = figures(args, cases, rec, at, cpu, outcomes)
    out.update(every_report_recorded=every_report, checks=found, notifications=sent)
    out.update(all_checks_ok=every_report and all(c["ok"] for c in found.values()))
    out.update(emails_received_by_the_sink=emails, profiles=[p.summary(20) for p in profilers] if args.profile else [])
    return out


def figures(
    args: argparse.Namespace,
    cases: list[Case],
    rec: Recorder,
    at: list[float],
    cpu: list[dict[str, float]],
    outcomes: Counter[str],
) -> dict[str, Any]:
    steps = sum(c.steps for c in cases)
    phases = ("opening", "driving", "closing")
    return {
        "benchmark": "national",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "provinces": len(args.provinces),
        "units": len(cases),
        "clients": args.clients,
        "api_workers": args.api_workers,
        "mail": args.mail,
        "seconds_end_to_end": round(at[3] - at[0], 1),
        "target_seconds": TARGET_SECONDS,
        "seconds": {name: round(at[i + 1] - at[i], 1) for i, name in enumerate(phases)},
        "case_outcomes": dict(outcomes),
        "steps": steps,
        "steps_per_second_driving": round(steps / (at[2] - at[1]), 1),
        "requests": {k: len(v) for k, v in rec.latencies.items()},
        "latency": {k: quantiles_ms(v) for k, v in sorted(rec.latencies.items())},
        "http_errors": sum(rec.errors.values()),
        "http_error_examples": dict(rec.errors.most_common(5)),
        "http_409_conflicts": sum(rec.conflicts.values()),
        "http_409_examples": dict(rec.conflicts.most_common(5)),
        "listings_without_the_task_yet": rec.not_in_inbox,
        "completions_sent_again": rec.retries,
        "cpu_seconds": {
            **{name: cpu_delta(cpu[i], cpu[i + 1]) for i, name in enumerate(phases)},
            "total": cpu_delta(cpu[0], cpu[3]),
        },
        "load_average_after": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
    }


def provinces_arg(value: str) -> list[str]:
    known = [p.code for p in load_provinces()]
    if value == "all":
        return known
    chosen = sorted({v.strip() for v in value.split(",") if v.strip()})
    unknown = [c for c in chosen if c not in known]
    if not chosen or unknown:
        raise argparse.ArgumentTypeError(
            f"unknown province code(s) {', '.join(unknown) or '(none given)'}; "
            f"'all' or two-digit codes separated by commas, e.g. 33,01"
        )
    return chosen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--provinces", type=provinces_arg, default="all", help="all, or codes: 33,01")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients driving cases")
    parser.add_argument("--api-workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--mail", action="store_true", help="officials with email, a local mail sink takes it all")
    parser.add_argument("--profile", action="store_true", help="sample the worker and the API with py-spy")
    args = parser.parse_args()
    if args.clients < 1:
        parser.error("--clients: at least 1")
    if args.api_workers < 1:
        parser.error("--api-workers: at least 1")
    figures = asyncio.run(run(args))
    out = write_result("national", figures)
    for key, value in figures.items():
        if key not in ("profiles",):
            print(f"{key:32} {value}")
    for summary in figures["profiles"]:
        print(summary)
    verdict = "met" if figures["seconds_end_to_end"] <= TARGET_SECONDS else "NOT met"
    print(f"end to end {figures['seconds_end_to_end']} s against the target ≤ {TARGET_SECONDS} s: {verdict}")
    print(f"written to {out}")
    return 0 if figures["all_checks_ok"] and figures["http_errors"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
