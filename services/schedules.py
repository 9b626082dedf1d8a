"""Temporal Schedules the worker keeps: each starts one workflow at a local time (Asia/Ho_Chi_Minh), skipping a
firing while the previous run still goes on; created once, or brought to the wanted shape.

Every worker ensures them when it starts, and several may start at once: a schedule lives in Temporal under its fixed
id, so exactly one create succeeds and the others, told it runs already, update it to the same shape (the last
update wins). One schedule per id whatever the number of workers; it fires once per time it names."""

from __future__ import annotations

from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.types import MethodAsyncSingleParam, ParamType

TIME_ZONE = "Asia/Ho_Chi_Minh"


def local_schedule(
    workflow: MethodAsyncSingleParam[Any, ParamType, Any],
    arg: ParamType,
    *,
    run_id: str,
    task_queue: str,
    at: ScheduleCalendarSpec,
) -> Schedule:
    """Start `workflow(arg)` as `run_id` at the local times `at` names; a firing while it runs is skipped."""
    return Schedule(
        action=ScheduleActionStartWorkflow(workflow, arg, id=run_id, task_queue=task_queue),
        spec=ScheduleSpec(calendars=[at], time_zone_name=TIME_ZONE),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_schedule(client: Client, schedule_id: str, wanted: Schedule) -> bool:
    """True when the schedule was created now; False when an existing one was updated to `wanted`."""
    try:
        await client.create_schedule(schedule_id, wanted)
    except ScheduleAlreadyRunningError:

        def _update(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=wanted)

        await client.get_schedule_handle(schedule_id).update(_update)
        return False
    return True
