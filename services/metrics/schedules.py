"""What the worker's Temporal Schedules say of themselves (`describe`): firings missed (the server was down, or
behind, past the catch-up window), skipped (the previous run still going), the last and the next firing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from services.absence_schedule import ABSENCE_SCHEDULE_ID
from services.notification_schedule import DIGEST_SCHEDULE_ID
from services.round_schedule import ROUND_SCHEDULE_ID

SCHEDULE_IDS = (DIGEST_SCHEDULE_ID, ROUND_SCHEDULE_ID, ABSENCE_SCHEDULE_ID)


@dataclass(frozen=True)
class ScheduleState:
    schedule_id: str
    actions: int
    missed_catchup_window: int
    skipped_overlap: int
    last_action_at: datetime | None
    next_action_at: datetime | None


async def schedule_states(client: Client) -> list[ScheduleState]:
    """One per schedule the worker keeps and the server has (a worker that never started has created none)."""
    found = []
    for schedule_id in SCHEDULE_IDS:
        try:
            described = await client.get_schedule_handle(schedule_id).describe()
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                continue
            raise
        info = described.info
        found.append(
            ScheduleState(
                schedule_id=schedule_id,
                actions=info.num_actions,
                missed_catchup_window=info.num_actions_missed_catchup_window,
                skipped_overlap=info.num_actions_skipped_overlap,
                last_action_at=max((a.started_at for a in info.recent_actions), default=None),
                next_action_at=min(info.next_action_times, default=None),
            )
        )
    return found
