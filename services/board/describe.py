"""The board's former scan for failing cases, kept only to check its successor against
(tests/api/test_board_failing.py): list the running cases of the provinces in Temporal, then describe each one (up to
`FAILING_SCAN_LIMIT`, `DESCRIBE_CONCURRENCY` at a time) for pending activities at attempt `min_attempts` or later, and
a pending workflow task as far along. One call per case: too slow for a national view (services/board/failures.py
replaced it).
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from temporalio.client import Client, WorkflowExecutionDescription
from temporalio.service import RPCError

from services.board.failures import failing_item
from services.board.schemas import StuckItem
from services.errors import Refusal
from workflows.case import STAGE, UNIT_CODE

FAILING_SCAN_LIMIT = 5000
DESCRIBE_CONCURRENCY = 16


def failures(desc: WorkflowExecutionDescription, min_attempts: int) -> list[str]:
    """The pending activities (and workflow task) of a run at attempt `min_attempts` or later, with their last error."""
    raw = desc.raw_description
    found = [
        f"{p.activity_type.name} attempt {p.attempt}: "
        + (p.last_failure.message if p.HasField("last_failure") else "no error recorded")
        for p in raw.pending_activities
        if p.attempt >= min_attempts
    ]
    if raw.HasField("pending_workflow_task") and raw.pending_workflow_task.attempt >= min_attempts:
        found.append(f"workflow task attempt {raw.pending_workflow_task.attempt}")
    return found


async def failing_cases(
    client: Client, provinces: list[str], *, min_attempts: int, now: datetime, unit_names: dict[str, str]
) -> list[StuckItem]:
    """Running cases of the provinces with a pending activity at attempt `min_attempts` or later."""
    quoted = ", ".join(f"'{p}'" for p in provinces if p.isdigit())
    query = f"WorkflowType = 'RecognitionCaseWorkflow' AND ExecutionStatus = 'Running' AND ProvinceCode IN ({quoted})"
    gate = asyncio.Semaphore(DESCRIBE_CONCURRENCY)
    found: list[StuckItem] = []

    async def describe(workflow_id: str, run_id: str | None) -> None:
        async with gate:
            try:
                desc = await client.get_workflow_handle(workflow_id, run_id=run_id).describe()
            except RPCError:
                return  # closed or gone since it was listed
        unit = desc.typed_search_attributes.get(UNIT_CODE) or ""
        stage = desc.typed_search_attributes.get(STAGE) or ""
        name = unit_names.get(unit, unit)
        found.extend(
            failing_item(workflow_id, unit, name, stage, desc.start_time, now, detail)
            for detail in failures(desc, min_attempts)
        )

    try:
        listed = [(w.id, w.run_id) async for w in client.list_workflows(query, limit=FAILING_SCAN_LIMIT)]
    except RPCError as exc:
        raise Refusal(503, "temporal_unavailable", f"Temporal cannot list the running cases: {exc.message}") from None
    await asyncio.gather(*(describe(wid, rid) for wid, rid in listed))
    return found
