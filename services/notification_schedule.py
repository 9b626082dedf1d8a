"""The Temporal Schedule that runs the daily digest at `XPTT_DIGEST_HOUR`:00, Asia/Ho_Chi_Minh."""

from __future__ import annotations

import structlog
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
)

from notify.payloads import DigestInput
from services.schedules import ensure_schedule
from workflows.notification import NotificationDigestWorkflow, notify_task_queue

log = structlog.get_logger(__name__)

DIGEST_SCHEDULE_ID = "xptt-notification-digest"


def digest_schedule(task_queue: str, hour: int) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            NotificationDigestWorkflow.run,
            DigestInput(hour=hour),
            id="xptt-notification-digest-run",
            task_queue=notify_task_queue(task_queue),
        ),
        spec=ScheduleSpec(
            calendars=[ScheduleCalendarSpec(hour=[ScheduleRange(hour)], minute=[ScheduleRange(0)])],
            time_zone_name="Asia/Ho_Chi_Minh",
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_digest_schedule(client: Client, *, task_queue: str, hour: int) -> bool:
    """Create the schedule, or bring an existing one to this hour and queue. True when created now."""
    created = await ensure_schedule(client, DIGEST_SCHEDULE_ID, digest_schedule(task_queue, hour))
    if created:
        log.info("digest_schedule_created", schedule_id=DIGEST_SCHEDULE_ID, hour=hour)
    return created
