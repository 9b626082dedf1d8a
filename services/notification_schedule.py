"""The Temporal Schedule that runs the daily digest at `XPTT_DIGEST_HOUR`:00, Asia/Ho_Chi_Minh."""

from __future__ import annotations

import structlog
from temporalio.client import Client, Schedule, ScheduleCalendarSpec, ScheduleRange

from notify.payloads import DigestInput
from services.schedules import ensure_schedule, local_schedule
from workflows.notification import NotificationDigestWorkflow, notify_task_queue

log = structlog.get_logger(__name__)

DIGEST_SCHEDULE_ID = "xptt-notification-digest"


def digest_schedule(task_queue: str, hour: int) -> Schedule:
    return local_schedule(
        NotificationDigestWorkflow.run,
        DigestInput(hour=hour),
        run_id="xptt-notification-digest-run",
        task_queue=notify_task_queue(task_queue),
        at=ScheduleCalendarSpec(hour=[ScheduleRange(hour)], minute=[ScheduleRange(0)]),
    )


async def ensure_digest_schedule(client: Client, *, task_queue: str, hour: int) -> bool:
    """Create the schedule, or bring an existing one to this hour and queue. True when created now."""
    created = await ensure_schedule(client, DIGEST_SCHEDULE_ID, digest_schedule(task_queue, hour))
    if created:
        log.info("digest_schedule_created", schedule_id=DIGEST_SCHEDULE_ID, hour=hour)
    return created
