"""Leave, end to end (API, worker, Temporal, PostgreSQL): the commune officer who holds a case's open task goes on
leave naming a deputy; the task is reassigned to the deputy at once (the case's journal names both), the reminder
goes to the deputy and not to the officer, the deputy completes the task, and the next task's news reaches the
deputy too. A task given back to the officer during the leave goes to the deputy again with the daily hand-over
(AbsenceHandoverWorkflow, as the schedule runs it)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from contracts import AbsenceHandoverInput
from db.models import AuditEventRow, DirectoryEventRow
from db.models_notify import NotificationRow
from domain.stages import Stage
from infra.clock import today_vn
from tests.officials.handover import assignee, give, register
from tests.support import PROVINCE, Stack, form_for, token_for
from workflows.absences import AbsenceHandoverWorkflow

DEPUTY = "hy-lam-thay"


async def _told(stack: Stack, case_id: str, kind: str, task_id: str, timeout: float = 10) -> set[str]:
    """Who got an in-app notification of `kind` about the case's task (waiting for the first)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with stack.sessions() as session:
            rows = set(
                await session.scalars(
                    select(NotificationRow.official_id).where(
                        NotificationRow.case_id == case_id,
                        NotificationRow.task_id == task_id,
                        NotificationRow.kind == kind,
                        NotificationRow.channel == "in_app",
                    )
                )
            )
        if rows or asyncio.get_running_loop().time() > deadline:
            return rows
        await asyncio.sleep(0.05)


async def _next_task(stack: Stack, case_id: str, *, after: str, timeout: float = 10) -> str:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        task = await stack.open_task(case_id, "commune_officer", mine=False)
        if task["id"] != after:
            return str(task["id"])
        assert asyncio.get_running_loop().time() < deadline, f"{case_id}: no task after {after}"
        await asyncio.sleep(0.05)


async def _journal(stack: Stack, case_id: str) -> list[AuditEventRow]:
    async with stack.sessions() as session:
        rows = await session.scalars(
            select(AuditEventRow).where(AuditEventRow.case_id == case_id).order_by(AuditEventRow.seq)
        )
        return list(rows)


async def test_the_deputy_gets_the_reminder_and_completes_the_task_during_the_leave(stack: Stack) -> None:
    officer = next(o.id for o in stack.officials if o.role.value == "commune_officer")
    admin = next(o.id for o in stack.officials if o.role.value == "admin")
    case_id = await stack.start_case()
    await stack.open_task(case_id, "commune_officer")
    await register(stack, DEPUTY, stack.unit_code)
    await give(stack, case_id, officer)

    today = today_vn()
    body: dict[str, Any] = {
        "province": PROVINCE,
        "deputy_id": DEPUTY,
        "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=14)).isoformat(),
        "reason": "nghỉ phép năm",
    }
    resp = await stack.http.post(f"/v1/officials/{officer}/absences", json=body, headers=stack.headers("admin"))
    assert resp.status_code == 201, resp.text
    leave = resp.json()
    assert leave["in_force"] and [(t["case_id"], t["to"]) for t in leave["reassigned"]] == [(case_id, DEPUTY)]
    await assignee(stack, case_id, DEPUTY)
    moved = [r for r in await _journal(stack, case_id) if r.action == "task_reassigned"][-1]
    assert (moved.actor_id, moved.payload["from"], moved.payload["to"]) == (admin, officer, DEPUTY)
    assert f"#{leave['id']}" in (moved.reason or "")

    remind = {"filter": {"province": PROVINCE, "case_ids": [case_id]}, "dry_run": False, "reason": "nhắc việc"}
    resp = await stack.http.post("/v1/bulk/remind", json=remind, headers=stack.headers("admin"))
    assert resp.status_code == 200 and resp.json()["applied"] == 1, resp.text
    task = await stack.open_task(case_id, "commune_officer", mine=False)
    told = await _told(stack, case_id, "task_reminder", task["id"])
    assert told == {DEPUTY}, told

    deputy_headers = {"Authorization": f"Bearer {token_for(DEPUTY)}"}
    resp = await stack.http.post(
        f"/v1/tasks/{task['id']}/complete", json=form_for(Stage.REGISTRATION), headers=deputy_headers
    )
    assert resp.status_code == 200, resp.text
    done = next(r for r in await _journal(stack, case_id) if r.action == "registration_completed")
    assert done.actor_id == DEPUTY
    # the next task's news reaches the deputy, not the officer on leave
    following = await _next_task(stack, case_id, after=task["id"])
    news = await _told(stack, case_id, "task_assigned", following)
    assert news == {DEPUTY}, news

    async with stack.sessions() as session:
        recorded = await session.scalar(
            select(DirectoryEventRow).where(
                DirectoryEventRow.action == "absence_recorded", DirectoryEventRow.official_id == officer
            )
        )
    assert recorded is not None and recorded.after["deputy_id"] == DEPUTY and recorded.actor_id == admin


async def test_the_daily_handover_moves_a_task_given_to_the_absent_official(stack: Stack) -> None:
    officer = next(o.id for o in stack.officials if o.role.value == "commune_officer")
    case_id = await stack.start_case()
    await stack.open_task(case_id, "commune_officer")
    await register(stack, DEPUTY, stack.unit_code)
    today = today_vn()
    body = {"province": PROVINCE, "deputy_id": DEPUTY, "starts_on": today.isoformat(), "ends_on": today.isoformat()}
    resp = await stack.http.post(f"/v1/officials/{officer}/absences", json=body, headers=stack.headers("admin"))
    assert resp.status_code == 201 and resp.json()["reassigned"] == [], resp.text
    await give(stack, case_id, officer)  # given to the absent official meanwhile

    result = await stack.client.execute_workflow(
        AbsenceHandoverWorkflow.run,
        AbsenceHandoverInput(),
        id=f"absence-handover-{uuid.uuid4()}",
        task_queue=stack.task_queue,
    )
    assert (result.leaves, result.reassigned, result.left_open) == (1, 1, 0)
    await assignee(stack, case_id, DEPUTY)
    again = await stack.client.execute_workflow(
        AbsenceHandoverWorkflow.run,
        AbsenceHandoverInput(),
        id=f"absence-handover-{uuid.uuid4()}",
        task_queue=stack.task_queue,
    )
    assert (again.reassigned, again.left_open) == (0, 0)  # nothing left with the officer: nothing sent twice
