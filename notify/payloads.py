"""What crosses the Temporal boundary for the notifications: the delivery workflow's input and its activities'
payloads (the rest is contracts.py). New fields get defaults, so recorded histories still load and replay."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True)


class NotificationRef(_Payload):
    outbox_id: str


class DeliverNotificationInput(_Payload):
    """One delivery workflow per outbox row (workflow id = outbox id). Retries back off from `retry_initial_seconds`
    doubling up to `retry_max_interval_seconds`; after `give_up_after_seconds` (or `max_attempts`, 0 = unbounded)
    the row ends `failed`."""

    outbox_id: str
    retry_initial_seconds: float = Field(default=10, gt=0)
    retry_max_interval_seconds: float = Field(default=15 * 60, gt=0)
    max_attempts: int = Field(default=0, ge=0)
    give_up_after_seconds: float = Field(default=48 * 3600, gt=0)


class DeliveryPlan(_Payload):
    outbox_id: str
    send: bool
    status: str
    deliver_after: datetime | None = None


class DeliveryOutcome(_Payload):
    outbox_id: str
    status: Literal["pending", "held", "sending", "delivered", "failed", "digested", "missing"]
    attempts: int = 0
    error: str | None = None


class MarkFailedInput(_Payload):
    outbox_id: str
    error: str


class DigestInput(_Payload):
    """The digest of `day` (local date; None: today in Asia/Ho_Chi_Minh at the time the workflow runs) carries
    the email held before `hour`:00 local time of that day."""

    day: date | None = None
    hour: int = Field(default=7, ge=0, le=23)


class BuildDigestsInput(_Payload):
    day: date
    hour: int = Field(default=7, ge=0, le=23)


class BuildDigestsResult(_Payload):
    day: date
    outbox_ids: list[str] = Field(default_factory=list)
    items: int = 0
