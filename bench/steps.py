"""Benchmark: case steps per second against the bare Temporal floor on the same stack.

    .venv/bin/python -m bench.steps [--cases 300] [--clients 50]

Ours: M cases of one synthetic province, opened by their round, each driven through its seven human stages
(registration → decision) by concurrent clients sending `complete_task` Updates exactly as the API does
(`WorkflowHandle.execute_update` with `CompleteTaskInput`). Each step runs its validator (role, unit, form), records
the transition (one PostgreSQL transaction: case, tasks, scores, audit chain, outbox), updates the search attributes
and tells the round. After the decision each case checks for a commendation and archives its history, unasked.
Bare: M workflows taking the same number of Updates, each running one no-op activity, on a worker process of its
own, same clients, same server. Figures: steps per second for both, the ratio, update latency percentiles, CPU
seconds per process. Writes bench/results/steps.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from temporalio.client import WorkflowUpdateFailedError

from bench.bare import BareStepsWorkflow
from bench.profile import Profile
from bench.round_open import seed, synthetic_units
from bench.stack import Stack, bench_stack, cpu_delta, cpu_seconds_by_process, running_workflows, today, write_result
from contracts import Actor, CompleteTaskInput, OpenRoundInput
from domain.access import RoleScope
from domain.case import case_id_for
from domain.stages import Stage
from tests.support import HUMAN_PATH, form_for, sign
from workflows.case import RecognitionCaseWorkflow
from workflows.round import AssessmentRoundWorkflow, round_workflow_id

ROUND_ID = "qd06-2019:2027"
PROVINCE = "33"
PATH = HUMAN_PATH


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def drive_all(
    items: list[str], clients: int, drive: Callable[[str, list[float]], Awaitable[None]]
) -> tuple[float, list[float]]:
    """`clients` concurrent clients each take the next item and drive it to its end; (seconds, update latencies)."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)
    latencies: list[float] = []

    async def client() -> None:
        while not queue.empty():
            await drive(queue.get_nowait(), latencies)

    started = time.monotonic()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.monotonic() - started, latencies


async def bare_phase(stack: Stack, cases: int, clients: int) -> dict[str, Any]:
    queue = stack.task_queue + "-bare"
    stack.start_worker({"TEMPORAL_TASK_QUEUE": queue}, module="bench.bare", name="bare")
    ids = [f"bare-{i}" for i in range(cases)]
    await asyncio.gather(
        *(stack.client.start_workflow(BareStepsWorkflow.run, len(PATH), id=i, task_queue=queue) for i in ids)
    )

    async def drive(workflow_id: str, latencies: list[float]) -> None:
        handle = stack.client.get_workflow_handle_for(BareStepsWorkflow.run, workflow_id)
        for n in range(len(PATH)):
            t0 = time.monotonic()
            await handle.execute_update(BareStepsWorkflow.step, n)
            latencies.append(time.monotonic() - t0)

    before = cpu_seconds_by_process(stack)
    seconds, latencies = await drive_all(ids, clients, drive)
    cpu = cpu_delta(before, cpu_seconds_by_process(stack))
    stack.stop("bare")
    return _figures(cases * len(PATH), seconds, latencies, cpu)


async def our_phase(
    stack: Stack, cases: int, clients: int, profile: bool = False, worker_env: dict[str, str] | None = None
) -> dict[str, Any]:
    rows = [{**u, "province_code": PROVINCE} for u in synthetic_units(cases)]
    await seed(stack, rows)
    stack.start_worker(worker_env)
    await stack.client.start_workflow(
        AssessmentRoundWorkflow.run,
        # A rehearsal: the round's calendar moved so that self-assessment opens today, every stage open in turn.
        OpenRoundInput(round_id=ROUND_ID, province_code=PROVINCE, concurrency=100, rehearsal_opens_on=today()),
        id=round_workflow_id(ROUND_ID, PROVINCE),
        task_queue=stack.task_queue,
    )
    deadline = time.monotonic() + 600
    while await running_workflows(stack, "RecognitionCaseWorkflow") < cases:
        if time.monotonic() > deadline:
            raise RuntimeError("the round did not start its cases within 10 minutes")
        await asyncio.sleep(0.5)
    forms = {stage: form_for(stage) for stage, _ in PATH}

    async def drive(unit: str, latencies: list[float]) -> None:
        case_id = case_id_for(ROUND_ID, unit)
        handle = stack.client.get_workflow_handle_for(RecognitionCaseWorkflow.run, case_id)
        task_id = f"{case_id}-t01"
        for stage, role in PATH:
            actor = Actor(
                official_id=f"bench-{role.value}",
                scopes=[RoleScope(role=role, province_code=PROVINCE, unit_code=unit)],
            )
            update_id = f"{task_id}:bench"  # the assertion is for the update id it is sent with
            t0 = time.monotonic()
            for attempt in range(100):
                try:
                    inp = CompleteTaskInput(task_id=task_id, actor=actor, payload=forms[stage])
                    result = await handle.execute_update(
                        RecognitionCaseWorkflow.complete_task,
                        sign(inp, case_id, update_id=update_id),
                        id=update_id,
                    )
                    break
                except WorkflowUpdateFailedError as exc:
                    # A case that records its own opening has no open task until that is recorded: ask again.
                    not_yet = stage == Stage.REGISTRATION and "no open task" in str(exc.cause)
                    if not not_yet or attempt == 99:
                        raise RuntimeError(f"{case_id} refused {stage.value}: {exc.cause}") from exc
                    await asyncio.sleep(0.1)
            latencies.append(time.monotonic() - t0)
            if result.next_task is None:
                break
            task_id = result.next_task.task_id

    before = cpu_seconds_by_process(stack)
    profiler = Profile(stack.worker_pid, "steps_worker") if profile else contextlib.nullcontext()
    with profiler:
        seconds, latencies = await drive_all([r["code"] for r in rows], clients, drive)
    cpu = cpu_delta(before, cpu_seconds_by_process(stack))
    if isinstance(profiler, Profile):
        print(profiler.summary(25))
    if len(latencies) != cases * len(PATH):
        raise RuntimeError(f"{len(latencies)} steps taken, {cases * len(PATH)} expected")
    return _figures(len(latencies), seconds, latencies, cpu)


def _figures(steps: int, seconds: float, latencies: list[float], cpu: dict[str, float]) -> dict[str, Any]:
    return {
        "steps": steps,
        "seconds": round(seconds, 2),
        "steps_per_second": round(steps / seconds, 1),
        "update_latency_ms": {
            "p50": round(1000 * statistics.median(latencies), 1),
            "p95": round(1000 * percentile(latencies, 95), 1),
            "p99": round(1000 * percentile(latencies, 99), 1),
        },
        "cpu_seconds": cpu,
        "cpu_ms_per_step": {name: round(1000 * used / steps, 1) for name, used in cpu.items()},
    }


async def run(
    cases: int, clients: int, profile: bool = False, worker_env: dict[str, str] | None = None
) -> dict[str, Any]:
    async with bench_stack() as stack:
        print(f"bare: {cases} workflows × {len(PATH)} updates, {clients} clients", flush=True)
        bare = await bare_phase(stack, cases, clients)
        print(f"  {bare['steps_per_second']} steps/s", flush=True)
        print(f"ours: {cases} cases × {len(PATH)} stages, {clients} clients", flush=True)
        ours = await our_phase(stack, cases, clients, profile, worker_env)
        print(f"  {ours['steps_per_second']} steps/s", flush=True)
    return {
        "benchmark": "steps",
        "cases": cases,
        "clients": clients,
        "worker_env": worker_env or {},
        "ours": ours,
        "bare": bare,
        "ratio_ours_to_bare": round(ours["steps_per_second"] / bare["steps_per_second"], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--profile", action="store_true", help="sample the worker with py-spy while cases step")
    parser.add_argument("--worker-env", action="append", default=[], help="KEY=VALUE for the worker (tuning)")
    args = parser.parse_args()
    worker_env = dict(kv.split("=", 1) for kv in args.worker_env)
    figures = asyncio.run(run(args.cases, args.clients, args.profile, worker_env))
    out = write_result("steps", figures)
    for key, value in figures.items():
        print(f"{key:24} {value}")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
