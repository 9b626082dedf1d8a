"""Scale-out: the worker and the API as two processes each over one Temporal server and one PostgreSQL database,
during a round of Lai Châu (6 units).

The two workers start at the same moment, so both ensure the schedules at once. The client's requests alternate
between the two API processes (the inbox read on one, the completion on the other, a retry with the same
Idempotency-Key wherever it lands). One worker is SIGKILLed mid-round and is not started again: the other finishes
the round. Compared with the undisturbed run (one worker, one API) as the process faults are
(test_process_faults.py): nothing lost, doubled or different, and a mail sent twice only across the kill.

The case histories name the worker that took each task (the identity on WorkflowTaskCompleted and
ActivityTaskStarted: the Temporal client's default, `pid@host`, distinct per process): both workers appear in them,
and nothing else does.
"""

from __future__ import annotations

import asyncio
import random
import socket
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, ScheduleActionStartWorkflow
from temporalio.testing import WorkflowEnvironment

from domain.case import case_id_for
from services.absence_schedule import ABSENCE_SCHEDULE_ID, ensure_absence_schedule
from services.notification_schedule import DIGEST_SCHEDULE_ID, ensure_digest_schedule
from services.round_schedule import ROUND_SCHEDULE_ID, ensure_round_schedule
from tests.faults.stack import RoundRun, log
from tests.faults.test_process_faults import QUICK, _until_transitions, baseline, check_against_baseline, seed
from tests.support import ROUND_ID
from workflows.round import round_workflow_id

PROCESSES = 2
SCHEDULES = (DIGEST_SCHEDULE_ID, ROUND_SCHEDULE_ID, ABSENCE_SCHEDULE_ID)


def identity_of(run: RoundRun) -> dict[str, str]:
    """Each worker process's Temporal identity (the SDK's default, `pid@host`) → its name."""
    return {f"{child.pid}@{socket.gethostname()}": child.name for child in run.worker_children}


async def tasks_by_identity(client: Client, workflow_ids: list[str]) -> Counter[str]:
    """Workflow tasks completed and activity tasks started, counted by the identity that took them."""
    seen: Counter[str] = Counter()
    for workflow_id in workflow_ids:
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        for event in history.events:
            if event.HasField("workflow_task_completed_event_attributes"):
                seen[event.workflow_task_completed_event_attributes.identity] += 1
            elif event.HasField("activity_task_started_event_attributes"):
                seen[event.activity_task_started_event_attributes.identity] += 1
    return seen


def killing_one_worker(total: int, rng: random.Random) -> Any:
    """When the round has recorded a random number of transitions in its middle third (plus a random fraction of a
    second, so the kill lands inside tasks), SIGKILL one of the workers, chosen at random; never start it again. Once
    the cases have ended, count who took their tasks."""
    point = rng.randrange(total // 3, 2 * total // 3)
    delay = rng.uniform(0.0, 0.5)
    victim_index = rng.randrange(PROCESSES)

    async def faults(run: RoundRun, driven: asyncio.Event) -> dict[str, Any]:
        assert len(run.worker_children) == PROCESSES and len(run.apis) == PROCESSES
        victim = run.worker_children[victim_index]
        at = await _until_transitions(run, point)
        await asyncio.sleep(delay)
        victim.kill()
        run.kill_times.append(time.monotonic())
        log(f"{victim.name} killed at {at}→{await run.transitions()} transitions; the other goes on alone")
        await driven.wait()
        cases = [case_id_for(ROUND_ID, unit) for unit in run.plan.units]
        for case_id in cases:
            await run.client.get_workflow_handle(case_id).result()
        survivors = [w.name for w in run.worker_children if w.alive()]
        took = await tasks_by_identity(run.client, [*cases, round_workflow_id(ROUND_ID, run.plan.province)])
        names = identity_of(run)
        return {
            "kills": victim.kills,
            "killed": victim.name,
            "survivors": survivors,
            "tasks_by_worker": {names.get(identity, identity): n for identity, n in sorted(took.items())},
            "requests_by_api": [run.requests_per_api[i] for i in range(len(run.apis))],
            "apis_alive": sum(api.alive() for api in run.api_children),
        }

    return faults


@pytest.mark.scenario("2 workers + 2 APIs, one worker SIGKILLed mid-round, the other finishes (6 units)")
async def test_two_workers_and_two_apis_share_a_round_and_one_worker_dies(
    pg_server_url: str, template_database: str, tmp_path: Path, fault_report: Callable[..., None]
) -> None:
    rng = random.Random(seed())
    want = await baseline(QUICK, pg_server_url, template_database, tmp_path)
    total = sum(len(actions) for actions in want.journal.values())
    figures = await check_against_baseline(
        QUICK,
        pg_server_url,
        template_database,
        tmp_path,
        fault_report,
        killing_one_worker(total, rng),
        workers=PROCESSES,
        api_processes=PROCESSES,
    )
    assert figures["kills"] == 1
    assert figures["survivors"] == [w for w in ("worker", "worker-2") if w != figures["killed"]]
    # Both workers took tasks of the cases, the killed one before its death and the other one after; nobody else.
    assert sorted(figures["tasks_by_worker"]) == ["worker", "worker-2"], figures["tasks_by_worker"]
    assert all(n > 0 for n in figures["tasks_by_worker"].values())
    # Both APIs served the client (every other request), and both are still up.
    assert len(figures["requests_by_api"]) == PROCESSES and min(figures["requests_by_api"]) > 0
    assert figures["apis_alive"] == PROCESSES


async def test_workers_starting_together_create_each_schedule_once(temporal_env: WorkflowEnvironment) -> None:
    """Eight workers ensuring the worker's schedules at the same moment, three times over: nothing fails, each
    schedule is created by exactly one of the first eight and updated by all the others (the last shape wins)."""
    client = temporal_env.client
    queue = "scale-out-schedules"
    for attempt, hour in enumerate((7, 8, 8)):
        created = await asyncio.gather(
            *(ensure_digest_schedule(client, task_queue=queue, hour=hour) for _ in range(8)),
            *(ensure_round_schedule(client, task_queue=queue) for _ in range(8)),
            *(ensure_absence_schedule(client, task_queue=queue) for _ in range(8)),
        )
        per_schedule = [sum(created[i * 8 : (i + 1) * 8]) for i in range(len(SCHEDULES))]
        assert per_schedule == ([1, 1, 1] if attempt == 0 else [0, 0, 0])
    for schedule_id in SCHEDULES:
        action = (await client.get_schedule_handle(schedule_id).describe()).schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow) and action.task_queue.startswith(queue)
    digest = (await client.get_schedule_handle(DIGEST_SCHEDULE_ID).describe()).schedule.spec.calendars[0]
    assert [r.start for r in digest.hour] == [8]  # the hour the later calls asked for
