"""The Temporal Schedule that opens rounds: yearly, on the day the periods of the rule set in force start (the day
after `period_end`: 1 November for QĐ 06/2019 and QĐ 34/2014), 07:00 Asia/Ho_Chi_Minh. The workflow it starts asks
the domain's rhythm whether a round's period starts that day, so the schedule needs no change when a period runs
several years."""

from __future__ import annotations

from datetime import date, timedelta

import structlog
from temporalio.client import Client, Schedule, ScheduleCalendarSpec, ScheduleRange

from contracts import ScheduledRoundsInput
from domain.rulesets import rule_set_in_force
from services.schedules import ensure_schedule, local_schedule
from workflows.round_opener import ScheduledRoundOpeningWorkflow

log = structlog.get_logger(__name__)

ROUND_SCHEDULE_ID = "xptt-round-opening"


def round_schedule(task_queue: str, *, today: date, hour: int = 7) -> Schedule:
    start = rule_set_in_force(today).rhythm.period_end.in_year(2001) + timedelta(days=1)  # a year with no 29 Feb
    return local_schedule(
        ScheduledRoundOpeningWorkflow.run,
        ScheduledRoundsInput(),
        run_id="xptt-round-opening-run",
        task_queue=task_queue,
        at=ScheduleCalendarSpec(
            month=[ScheduleRange(start.month)],
            day_of_month=[ScheduleRange(start.day)],
            hour=[ScheduleRange(hour)],
            minute=[ScheduleRange(0)],
        ),
    )


async def ensure_round_schedule(client: Client, *, task_queue: str, today: date | None = None) -> bool:
    """Create the schedule or bring it up to date; True when created now."""
    created = await ensure_schedule(client, ROUND_SCHEDULE_ID, round_schedule(task_queue, today=today or date.today()))
    if created:
        log.info("round_schedule_created", schedule_id=ROUND_SCHEDULE_ID)
    return created
