"""The Temporal Schedule that hands absent officials' open tasks to their deputies, daily at 00:15
Asia/Ho_Chi_Minh (services/officials/absences.py): a leave recorded ahead takes effect the morning it begins."""

from __future__ import annotations

import structlog
from temporalio.client import Client, Schedule, ScheduleCalendarSpec, ScheduleRange

from contracts import AbsenceHandoverInput
from services.schedules import ensure_schedule, local_schedule
from workflows.absences import AbsenceHandoverWorkflow

log = structlog.get_logger(__name__)

ABSENCE_SCHEDULE_ID = "xptt-absence-handover"


def absence_schedule(task_queue: str) -> Schedule:
    return local_schedule(
        AbsenceHandoverWorkflow.run,
        AbsenceHandoverInput(),
        run_id="xptt-absence-handover-run",
        task_queue=task_queue,
        at=ScheduleCalendarSpec(hour=[ScheduleRange(0)], minute=[ScheduleRange(15)]),
    )


async def ensure_absence_schedule(client: Client, *, task_queue: str) -> bool:
    """Create the schedule or bring it up to date; True when created now."""
    created = await ensure_schedule(client, ABSENCE_SCHEDULE_ID, absence_schedule(task_queue))
    if created:
        log.info("absence_schedule_created", schedule_id=ABSENCE_SCHEDULE_ID)
    return created
