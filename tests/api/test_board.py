"""The stuck-approvals board: overdue, escalated and held work from the read model, failed notifications from the
outbox, and cases whose activities keep failing from the worker's record of them — grouped by unit and stage, with
time in stage. (tests/api/test_board_failing.py checks the failing cases against Temporal's own view.)"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update
from temporalio import activity

from activities.attempts import FailedAttempts
from activities.case_store import CaseStore
from contracts import RecordTransitionInput
from db.models import TaskRow
from db.models_notify import NotificationRow
from domain.case import case_id_for
from services.rounds.opening import start_case
from tests.builders import start_input
from tests.support import PROVINCE, ROUND_ID, Stack, fresh_unit
from worker import build_worker

RELEASED: set[str] = set()  # cases whose projection works again: a worker stops once its local activities end


@activity.defn(name="record_transition")
async def broken_projection(inp: RecordTransitionInput) -> None:
    if inp.case.case_id not in RELEASED:
        raise RuntimeError("connection to the read model refused")


async def _board(stack: Any, **params: Any) -> dict[str, Any]:
    resp = await stack.http.get("/v1/board", params=params, headers=stack.headers("admin"))
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def test_the_board_groups_what_is_stuck_by_unit_and_stage(stack: Stack, database_url: str) -> None:
    late = await stack.start_case()
    escalated = await stack.start_case(unit_code=fresh_unit())
    calm = await stack.start_case(unit_code=fresh_unit())
    for case in (late, escalated, calm):
        await stack.open_task(case, "admin", mine=False)
    now = datetime.now(UTC)
    async with stack.sessions() as session, session.begin():
        await session.execute(
            update(TaskRow)
            .where(TaskRow.case_id == late)
            .values(due_at=now - timedelta(days=3), created_at=now - timedelta(days=25))
        )
        await session.execute(
            update(TaskRow)
            .where(TaskRow.case_id == escalated)
            .values(due_at=now - timedelta(days=8), escalation_level=1, escalated_to="commune_chairman")
        )
        session.add(
            NotificationRow(
                id=f"n-{uuid.uuid4()}",
                kind="task_assigned",
                channel="email",
                official_id=f"demo-admin-{PROVINCE}",
                address="nobody@example.invalid",
                locale="vi",
                dedup_key=f"k-{uuid.uuid4()}",
                case_id=late,
                task_id=None,
                unit_code=late.rsplit("-", 1)[1],
                province_code=PROVINCE,
                subject="Nhiệm vụ mới",
                body="…",
                link=None,
                payload={},
                status="failed",
                deliver_after=now,
                attempts=8,
                last_error="550 mailbox unavailable",
                created_at=now,
                failed_at=now,
            )
        )

    # a case whose projection keeps failing never reaches the read model: the worker's interceptor records its
    # failing attempts (activities/attempts.py), as the worker process does
    failing_queue = f"failing-{uuid.uuid4()}"
    unit = fresh_unit()
    failing_id = case_id_for(ROUND_ID, unit)
    attempts = FailedAttempts.connect(database_url)
    worker = build_worker(
        stack.client,
        failing_queue,
        [broken_projection, CaseStore(stack.sessions).load_recognition_history],
        interceptors=[attempts],
    )
    async with worker:
        await start_case(stack.client, start_input(unit, case_id=failing_id), task_queue=failing_queue)
        deadline = asyncio.get_running_loop().time() + 30
        while True:
            board = await _board(stack, min_attempts=2)
            failing = [i for i in board["items"] if i["reason"] == "failing_activity" and i["case_id"] == failing_id]
            if failing or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.5)
        RELEASED.add(failing_id)  # its next attempt succeeds (recording nothing), so the worker can stop
    await attempts.close()
    assert failing, "the failing case never showed on the board"
    assert failing[0]["unit_code"] == unit and failing[0]["stage"] == "registration"
    assert "record_transition" in failing[0]["detail"] and "refused" in failing[0]["detail"]

    board = await _board(stack, failing="false")
    by_reason = {(i["reason"], i["case_id"]) for i in board["items"]}
    assert ("overdue", late) in by_reason and ("escalated", escalated) in by_reason
    assert ("failed_notification", late) in by_reason
    assert {r for r, c in by_reason if c == calm} == {"no_holder"}  # no one holds its role at that unit
    assert board["totals"]["overdue"] == 1 and board["totals"]["escalated"] == 1
    assert board["totals"]["failed_notification"] == 1 and board["totals"]["failing_activity"] == 0
    group = next(g for g in board["groups"] if g["unit_code"] == late.rsplit("-", 1)[1])
    assert (group["stage"], group["overdue"], group["failed_notifications"]) == ("registration", 1, 1)
    assert 24 * 24 * 3600 < group["max_seconds_in_stage"] < 26 * 24 * 3600
    overdue = next(i for i in board["items"] if i["case_id"] == late and i["reason"] == "overdue")
    assert overdue["seconds_in_stage"] >= 25 * 24 * 3600 - 60

    # a task escalated to the commune chairman shows in their escalations, not in their (or anyone's) own tasks
    async with stack.sessions() as session, session.begin():
        await session.execute(
            update(TaskRow).where(TaskRow.case_id == late).values(escalation_level=1, escalated_to="commune_chairman")
        )
    chased = await stack.http.get(
        "/v1/tasks", params={"escalated_to_me": "true"}, headers=stack.headers("commune_chairman")
    )
    assert [t["case_id"] for t in chased.json()] == [late]
    for role in ("commune_chairman", "council_chair"):
        resp = await stack.http.get("/v1/tasks", headers=stack.headers(role))
        assert late not in {t["case_id"] for t in resp.json()}, role
    officer = await stack.http.get(
        "/v1/tasks", params={"escalated_to_me": "true"}, headers=stack.headers("commune_officer")
    )
    assert officer.json() == []

    # the auditor reads the board too; officials of a unit do not
    assert (
        await stack.http.get("/v1/board", params={"failing": "false"}, headers=stack.headers("auditor"))
    ).status_code == 200
    assert (await stack.http.get("/v1/board", headers=stack.headers("commune_officer"))).status_code == 403
