"""The board's failing cases come from PostgreSQL (the worker's interceptor records failing attempts,
activities/attempts.py) and one list call on Temporal's `TemporalReportedProblems`; they must be what describing
every running case in Temporal found (services/board/describe.py, the former scan): same cases, reasons, units,
stages and details."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text
from temporalio import activity, workflow
from temporalio.worker import Worker

from activities.archive import HistoryArchive
from activities.attempts import FailedAttempts
from activities.case_store import CaseStore
from contracts import (
    RecognitionHistory,
    RecognitionHistoryInput,
    RecordTransitionInput,
    RecordTransitionResult,
    StartCaseInput,
)
from db.models import CaseRow
from db.models_attempts import ActivityFailureRow
from domain.case import case_id_for
from domain.units import load_units
from services.board import queries
from services.board.describe import failing_cases
from services.rounds.opening import start_case
from tests.builders import complete_human_stages, start_input
from tests.support import PROVINCE, ROUND_ID, Stack, fresh_unit
from worker import build_worker
from workflows.actor_keys import check_nudge_actor
from workflows.case import case_search_attributes

Key = tuple[str, str, str, str, str, str | None]


@workflow.defn(name="RecognitionCaseWorkflow", sandboxed=False)
class BrokenCase:
    """A case workflow whose every workflow task fails (a bug in the workflow's code, as a bad deployment would)."""

    @workflow.run
    async def run(self, inp: StartCaseInput) -> None:
        raise RuntimeError(f"no such stage for {inp.case_id}")


def _unit_name(code: str) -> str:
    return next(u.name for u in load_units(PROVINCE) if u.code == code)


def _keys(items: list[dict[str, Any]], case_ids: set[str]) -> set[Key]:
    return {
        (i["case_id"], i["reason"], i["unit_code"], i["unit_name"], i["stage"], i["detail"])
        for i in items
        if i["case_id"] in case_ids
    }


async def _new_board(stack: Stack, case_ids: set[str], min_attempts: int) -> set[Key]:
    resp = await stack.http.get("/v1/board", params={"min_attempts": min_attempts}, headers=stack.headers("admin"))
    assert resp.status_code == 200, resp.text
    return _keys(resp.json()["items"], case_ids)


async def _old_scan(stack: Stack, case_ids: set[str], min_attempts: int) -> set[Key]:
    async with stack.sessions() as session:
        names = await queries.unit_names(session, [PROVINCE])
    found = await failing_cases(
        stack.client, [PROVINCE], min_attempts=min_attempts, now=datetime.now(UTC), unit_names=names
    )
    return _keys([i.model_dump() for i in found], case_ids)


async def _until(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} within {timeout} s")
        await asyncio.sleep(0.3)


async def _agreed(stack: Stack, case_ids: set[str], min_attempts: int, timeout: float = 15) -> set[Key]:
    """What the former scan and the board both list once they agree (a failure reaches PostgreSQL a moment before
    Temporal counts it); fails when they never do."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        old = await _old_scan(stack, case_ids, min_attempts)
        new = await _new_board(stack, case_ids, min_attempts)
        if old == new:
            return old
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"min_attempts={min_attempts}: describing found {old}, the board {new}")
        await asyncio.sleep(0.3)


async def _connected(stack: Stack, name: str) -> int:
    """Connections open under application_name `name` (the interceptor's engine opens one at its first write)."""
    async with stack.sessions() as session:
        found = await session.scalar(
            text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name"), {"name": name}
        )
    return int(found or 0)


async def test_failing_activities_are_what_describing_every_case_found(stack: Stack, database_url: str) -> None:
    store = CaseStore(stack.sessions)
    local_unit = fresh_unit()
    local_case = case_id_for(ROUND_ID, local_unit)
    released: set[str] = set()  # cases whose projection works again (a worker stops once its local activities end)

    @activity.defn(name="load_recognition_history")
    async def broken_history(inp: RecognitionHistoryInput) -> RecognitionHistory:
        raise RuntimeError("past rounds unreadable")

    @activity.defn(name="record_transition")
    async def projection(inp: RecordTransitionInput) -> RecordTransitionResult:
        if inp.case.case_id == local_case and local_case not in released:
            raise RuntimeError("connection to the read model refused")
        # The recognition's result without the unit's history, as recorded before it carried it: the case then
        # loads the history with the activity that fails here.
        return (await store.record_transition(inp)).model_copy(update={"recognition_history": None})

    attempts = FailedAttempts.connect(database_url)
    archive = HistoryArchive(stack.client, stack.sessions)
    activities = [projection, broken_history, check_nudge_actor, archive.archive_history]
    worker = build_worker(stack.client, f"failing-{uuid.uuid4()}", activities, interceptors=[attempts])
    case_id = case_id_for(ROUND_ID, stack.unit_code)
    async with worker:
        # The case of the unit whose officials the stack holds goes through every human stage to its commendation
        # check, whose history load (an activity Temporal lists as pending) keeps failing.
        await start_case(stack.client, start_input(stack.unit_code), task_queue=worker.task_queue)
        await complete_human_stages(stack, case_id)

        async def old_sees_it() -> bool:
            return bool(await _old_scan(stack, {case_id}, 3))

        await _until(old_sees_it, 40, "describing never found the history load at attempt 3")
        # Both views agree (attempts run further apart each time; a failure reaches PostgreSQL a moment before
        # Temporal counts it, so they are asked until they agree).
        for min_attempts in (3, 2):
            old = await _agreed(stack, {case_id}, min_attempts)
            assert [k[:5] for k in old] == [
                (case_id, "failing_activity", stack.unit_code, _unit_name(stack.unit_code), "commendation")
            ]
            detail = str(next(iter(old))[5])
            assert detail.startswith("load_recognition_history attempt ")
            assert detail.endswith(": past rounds unreadable")
        assert await _new_board(stack, {case_id}, 1000) == set()  # not from an attempt it has not reached

        # Another case's first transition keeps failing (its recording, before the case reaches the read model):
        # the board names it from the activity's input, as describing the case did.
        await start_case(stack.client, start_input(local_unit), task_queue=worker.task_queue)

        async def new_sees_it() -> bool:
            return bool(await _new_board(stack, {local_case}, 3))

        await _until(new_sees_it, 40, "the board never showed the failing recording at attempt 3")
        [(_, reason, unit, _, stage, local_detail)] = await _new_board(stack, {local_case}, 2)
        old = await _old_scan(stack, {local_case}, 2)  # the attempt may have moved on between the two reads
        assert {(c, r, st) for c, r, _, _, st, _ in old} == {(local_case, reason, stage)}
        assert all(str(d).startswith("record_transition attempt ") for *_, d in old)
        assert (reason, unit, stage) == ("failing_activity", local_unit, "registration")
        assert str(local_detail).startswith("record_transition attempt ")
        assert str(local_detail).endswith(": connection to the read model refused")
        # its row keeps what the activity's input named: the case never reached the read model
        async with stack.sessions() as session:
            row = await session.get(ActivityFailureRow, (local_case, "record_transition"))
            assert await session.get(CaseRow, local_case) is None
        assert row is not None
        assert (row.case_id, row.unit_code, row.province_code, row.stage) == (
            local_case,
            local_unit,
            PROVINCE,
            "registration",
        )
        assert row.first_failed_at < row.last_failed_at

        released.add(local_case)

        async def recovered() -> bool:
            async with stack.sessions() as session:
                return await session.get(CaseRow, local_case) is not None

        await _until(recovered, 60, "the released case never reached the read model")
    await attempts.close()
    async with stack.sessions() as session:
        assert await session.get(ActivityFailureRow, (local_case, "record_transition")) is None


async def test_the_row_goes_when_the_activity_succeeds_at_last(stack: Stack, database_url: str) -> None:
    store = CaseStore(stack.sessions)
    seen: dict[int, list[tuple[int, str]]] = {}

    @activity.defn(name="record_transition")
    async def flaky_projection(inp: RecordTransitionInput) -> RecordTransitionResult:
        attempt = activity.info().attempt
        async with stack.sessions() as session:
            rows = await session.execute(
                select(ActivityFailureRow.failed_attempt, ActivityFailureRow.last_error).where(
                    ActivityFailureRow.workflow_id == inp.workflow_id
                )
            )
            seen[attempt] = [(n, error) for n, error in rows.all()]
        if attempt < 3:
            raise RuntimeError(f"read model busy ({attempt})")
        return await store.record_transition(inp)

    name = f"xptt-attempts-{uuid.uuid4().hex[:8]}"
    attempts = FailedAttempts.connect(database_url, name=name)
    unit = fresh_unit()
    case_id = case_id_for(ROUND_ID, unit)
    activities = [flaky_projection, store.load_recognition_history]
    worker = build_worker(stack.client, f"flaky-{uuid.uuid4()}", activities, interceptors=[attempts])
    async with worker:
        await start_case(stack.client, start_input(unit), task_queue=worker.task_queue)

        async def recorded() -> bool:
            async with stack.sessions() as session:
                return await session.get(CaseRow, case_id) is not None

        await _until(recorded, 30, "the case never reached the read model")
        assert await _connected(stack, name) == 1  # the failures were written on the interceptor's own connection
    await attempts.close()
    # each attempt saw the failures before it; the one that succeeded removed them
    assert seen[1] == [] and seen[2] == [(1, "read model busy (1)")] and seen[3] == [(2, "read model busy (2)")]
    async with stack.sessions() as session:
        left = await session.scalar(
            select(func.count()).select_from(ActivityFailureRow).where(ActivityFailureRow.workflow_id == case_id)
        )
    assert left == 0


async def test_a_first_attempt_that_succeeds_costs_nothing(stack: Stack, database_url: str) -> None:
    name = f"xptt-attempts-{uuid.uuid4().hex[:8]}"
    attempts = FailedAttempts.connect(database_url, name=name)
    store = CaseStore(stack.sessions)
    worker = build_worker(
        stack.client,
        f"steps-{uuid.uuid4()}",
        [store.record_transition, store.load_recognition_history],
        interceptors=[attempts],
    )
    units = [fresh_unit() for _ in range(3)]
    async with worker:
        for unit in units:
            await start_case(stack.client, start_input(unit), task_queue=worker.task_queue)

        async def recorded() -> bool:
            async with stack.sessions() as session:
                found = await session.scalar(
                    select(func.count())
                    .select_from(CaseRow)
                    .where(CaseRow.id.in_([case_id_for(ROUND_ID, u) for u in units]))
                )
            return found == len(units)

        await _until(recorded, 30, "the cases never reached the read model")
        # no statement, not even a connection: the interceptor's engine opens one only to write
        assert await _connected(stack, name) == 0
    await attempts.close()
    async with stack.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ActivityFailureRow)) == 0


async def test_workflow_tasks_that_keep_failing_are_listed_without_describing(stack: Stack) -> None:
    unit = fresh_unit()
    inp = start_input(unit)
    queue = f"broken-{uuid.uuid4()}"
    async with Worker(stack.client, task_queue=queue, workflows=[BrokenCase]):
        handle = await stack.client.start_workflow(
            "RecognitionCaseWorkflow",
            inp,
            id=inp.case_id,
            task_queue=queue,
            search_attributes=case_search_attributes(inp),
        )
        try:

            async def listed() -> bool:
                return bool(await _new_board(stack, {inp.case_id}, 3))

            await _until(listed, 60, "Temporal never flagged the case's failing workflow tasks")
            new = await _new_board(stack, {inp.case_id}, 3)
            old = await _old_scan(stack, {inp.case_id}, 3)
        finally:
            await handle.terminate("test over")
    # the same case, reason, unit and stage; Temporal's flag names the cause where describing gave the attempt
    assert {k[:5] for k in new} == {k[:5] for k in old}
    assert {(k[0], k[1], k[2], k[4]) for k in new} == {(inp.case_id, "failing_activity", unit, "registration")}
    assert [k[5] for k in new] == ["workflow task failed: WorkflowWorkerUnhandledFailure"]
    assert [str(k[5]).rsplit(" ", 1)[0] for k in old] == ["workflow task attempt"]
