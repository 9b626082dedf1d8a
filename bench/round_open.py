"""Benchmark: a national round opened at once, and the worker's memory with every case live.

    .venv/bin/python -m bench.round_open [--units 10035] [--concurrency 100]

N synthetic units (default 10,035, the number of communes before the 2025 mergers) spread over the 34 real provinces
in proportion to their units today, codes from 40000 up (above every real code). One AssessmentRoundWorkflow per
province starts at the same moment. Measured:

- seconds until every case's first task is in the PostgreSQL inbox (what officials see), and units per second;
- seconds until every case workflow runs (its round has started it);
- the worker's resident memory while the round opens, then while every one of the N live cases answers a query
  (which loads each into the worker's cache, replaying it when it had been evicted): peak RSS.

Writes bench/results/round_open.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.service import RPCError

from bench.profile import Profile
from bench.stack import (
    Stack,
    bench_stack,
    cpu_delta,
    cpu_seconds_by_process,
    rss_mb,
    running_workflows,
    write_result,
)
from contracts import OpenRoundInput
from db.models import ProvinceRow, TaskRow, UnitRow
from domain.units import load_provinces, load_units
from workflows.case import RecognitionCaseWorkflow
from workflows.round import AssessmentRoundWorkflow, round_workflow_id

ROUND_ID = "qd06-2019:2027"
FIRST_CODE = 40000


def synthetic_units(n: int) -> list[dict[str, str]]:
    """n units over the real provinces, in proportion to each province's units today (largest remainder)."""
    provinces = load_provinces()
    real = Counter(u.province_code for u in load_units(None))
    total = sum(real.values())
    shares = {p.code: n * real[p.code] / total for p in provinces}
    counts = {code: int(share) for code, share in shares.items()}
    for code in sorted(shares, key=lambda c: shares[c] - counts[c], reverse=True)[: n - sum(counts.values())]:
        counts[code] += 1
    assert max(int(u.code) for u in load_units(None)) < FIRST_CODE
    rows: list[dict[str, str]] = []
    for code in sorted(counts):
        for _ in range(counts[code]):
            no = FIRST_CODE + len(rows)
            rows.append(
                {
                    "code": f"{no:05d}",
                    "name": f"Xã Thử Nghiệm {no}",
                    "division_type": "xã",
                    "province_code": code,
                    "locality_type": "other",
                }
            )
    return rows


async def insert_places(session: AsyncSession, units: list[dict[str, str]]) -> None:
    """The real provinces and the given units, in the caller's transaction."""
    await session.execute(
        insert(ProvinceRow).values(
            [{"code": p.code, "name": p.name, "is_central_city": p.is_central_city} for p in load_provinces()]
        )
    )
    for i in range(0, len(units), 2000):
        await session.execute(insert(UnitRow).values(units[i : i + 2000]))


async def seed(stack: Stack, units: list[dict[str, str]]) -> list[str]:
    """The real provinces and the given units; returns the provinces that have units."""
    async with stack.sessions() as session, session.begin():
        await insert_places(session, units)
    return sorted({u["province_code"] for u in units})


class RssSampler:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            current, _ = rss_mb(self.pid)
            self.peak = max(self.peak, current)
            await asyncio.sleep(0.2)

    def __enter__(self) -> RssSampler:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        self.peak = max(self.peak, rss_mb(self.pid)[0])


async def open_tasks(stack: Stack) -> int:
    async with stack.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(TaskRow).where(TaskRow.status == "open")) or 0)


async def run(n: int, concurrency: int, worker_env: dict[str, str], profile: bool) -> dict[str, Any]:
    async with bench_stack() as stack:
        provinces = await seed(stack, synthetic_units(n))
        stack.start_worker(worker_env)
        idle_rss = rss_mb(stack.worker_pid)[0]
        print(f"{n} synthetic units in {len(provinces)} provinces; worker idle at {idle_rss:.0f} MiB", flush=True)
        cpu_before = cpu_seconds_by_process(stack)
        profiler = Profile(stack.worker_pid, "round_open_worker") if profile else contextlib.nullcontext()
        with RssSampler(stack.worker_pid) as opening_rss, profiler:
            started = time.monotonic()
            await asyncio.gather(
                *(
                    stack.client.start_workflow(
                        AssessmentRoundWorkflow.run,
                        OpenRoundInput(round_id=ROUND_ID, province_code=code, concurrency=concurrency),
                        id=round_workflow_id(ROUND_ID, code),
                        task_queue=stack.task_queue,
                    )
                    for code in provinces
                )
            )
            inbox_s = running_s = None
            last_print = 0.0
            while running_s is None:
                await asyncio.sleep(0.25)
                stack.check_alive()
                elapsed = time.monotonic() - started
                tasks = await open_tasks(stack)
                if inbox_s is None and tasks >= n:
                    inbox_s = elapsed
                running = await running_workflows(stack, "RecognitionCaseWorkflow")
                if inbox_s is not None and running >= n:
                    running_s = time.monotonic() - started
                if elapsed - last_print >= 2 or running_s is not None:
                    last_print = elapsed
                    print(f"  {elapsed:6.1f} s  {tasks}/{n} first tasks in the inbox, {running} cases running")
                if elapsed > 1800:
                    raise RuntimeError("the round did not open within 30 minutes")
        cpu_opening = cpu_delta(cpu_before, cpu_seconds_by_process(stack))
        if isinstance(profiler, Profile):
            print(profiler.summary())
        async with stack.sessions() as session:
            cases = list((await session.execute(select(TaskRow.case_id))).scalars())
        assert len(cases) == n, f"{len(cases)} cases recorded for {n} units"
        after_open_rss = rss_mb(stack.worker_pid)[0]

        print(f"querying each of the {n} live cases (loads every one into the worker)", flush=True)
        gate = asyncio.Semaphore(20)

        query_retries = 0

        async def touch(case_id: str) -> None:
            nonlocal query_retries
            handle = stack.client.get_workflow_handle_for(RecognitionCaseWorkflow.run, case_id)
            async with gate:
                for attempt in range(10):
                    try:
                        await handle.query(RecognitionCaseWorkflow.status, rpc_timeout=timedelta(minutes=5))
                        return
                    except RPCError:
                        # the server gave up waiting for the busy worker (its own query timeout): ask again
                        if attempt == 9:
                            raise
                        query_retries += 1

        with RssSampler(stack.worker_pid) as live_rss:
            t0 = time.monotonic()
            for i in range(0, n, 1000):
                await asyncio.gather(*(touch(c) for c in cases[i : i + 1000]))
                print(f"  {min(i + 1000, n)}/{n} cases queried, worker at {rss_mb(stack.worker_pid)[0]:.0f} MiB")
            sweep_s = time.monotonic() - t0
        _, hwm = rss_mb(stack.worker_pid)
    assert inbox_s is not None and running_s is not None
    return {
        "benchmark": "round_open",
        "units": n,
        "provinces": len(provinces),
        "round_concurrency": concurrency,
        "worker_env": worker_env,
        "seconds_to_every_first_task_in_inbox": round(inbox_s, 2),
        "units_per_second_inbox": round(n / inbox_s, 1),
        "seconds_to_every_case_workflow_running": round(running_s, 2),
        "units_per_second_running": round(n / running_s, 1),
        "cpu_seconds_while_opening": cpu_opening,
        "worker_rss_idle_mib": round(idle_rss, 1),
        "worker_rss_peak_while_opening_mib": round(opening_rss.peak, 1),
        "worker_rss_after_open_mib": round(after_open_rss, 1),
        "worker_rss_peak_querying_every_live_case_mib": round(live_rss.peak, 1),
        "worker_rss_high_water_mark_mib": round(hwm, 1),
        "seconds_to_query_every_live_case": round(sweep_s, 2),
        "queries_asked_again_after_a_server_timeout": query_retries,
        "live_cases": n,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10035, help="synthetic units over the real provinces")
    parser.add_argument("--concurrency", type=int, default=100, help="case starts in flight per round")
    parser.add_argument("--worker-env", action="append", default=[], help="KEY=VALUE for the worker (tuning)")
    parser.add_argument("--profile", action="store_true", help="sample the worker with py-spy while the round opens")
    args = parser.parse_args()
    worker_env = dict(kv.split("=", 1) for kv in args.worker_env)
    figures = asyncio.run(run(args.units, args.concurrency, worker_env, args.profile))
    out = write_result("round_open", figures)
    for key, value in figures.items():
        print(f"{key:48} {value}")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
