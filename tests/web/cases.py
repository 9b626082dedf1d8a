"""Cases driven through the API to where a page test needs them: closed with the forms given (a council score of 0
in criterion 3, a decision not to recognise, a refusal at appraisal, a unit that does not register), or commended."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from db.models import CaseRow, TaskRow
from domain.stages import Stage
from tests.faults.abuse_support import HUMAN_STAGES, ROLE_OF_STAGE, Parked, seed_recognised_rounds, seed_unit_officials
from tests.support import Stack, form_for, fresh_unit, token_for


async def close_case(stack: Stack, forms: dict[Stage, dict[str, Any]], *, streak: bool = False) -> Parked:
    """A case on a unit of its own, driven with `forms` (default: form_for) until it closes."""
    unit = fresh_unit()
    officials = await seed_unit_officials(stack.sessions, unit)
    if streak:
        await seed_recognised_rounds(stack.sessions, unit, ["qd06-2019:2022", "qd06-2019:2024"])
    tokens = {role: token_for(oid) for role, oid in officials.items()}
    case_id = await stack.start_case(unit)
    for stage in HUMAN_STAGES:
        task_id = await task_or_closed(stack, case_id, stage)
        if task_id is None:
            break
        resp = await stack.http.post(
            f"/v1/tasks/{task_id}/complete",
            json=forms.get(stage, form_for(stage)),
            headers={"Authorization": f"Bearer {tokens[ROLE_OF_STAGE[stage]]}"},
        )
        assert resp.status_code == 200, f"{stage}: {resp.text}"
    assert await task_or_closed(stack, case_id, Stage.CLOSED) is None
    return Parked(Stage.CLOSED, case_id, unit, "", tokens, officials)


async def task_or_closed(stack: Stack, case_id: str, stage: Stage, timeout: float = 20) -> str | None:
    """The case's open task at `stage`, or None once the case is closed."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with stack.sessions() as session:
            case = await session.get(CaseRow, case_id, populate_existing=True)
            task = await session.scalar(
                select(TaskRow.id).where(TaskRow.case_id == case_id, TaskRow.status == "open", TaskRow.stage == stage)
            )
        if task is not None:
            return str(task)
        if case is not None and case.status == "closed":
            return None
        assert asyncio.get_running_loop().time() < deadline, f"{case_id}: no {stage.value} task, not closed"
        await asyncio.sleep(0.05)


def zero_in_3() -> dict[str, int]:
    return {**form_for(Stage.COUNCIL_ASSESSMENT)["scores"], "3": 0}
