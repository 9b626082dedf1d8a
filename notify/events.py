"""What can be announced, to whom, and the deterministic ids of the messages that announce it. Pure."""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.stages import Role


class NotificationKind(StrEnum):
    TASK_ASSIGNED = "task_assigned"
    TASK_REMINDER = "task_reminder"
    TASK_ESCALATED = "task_escalated"
    DOSSIER_RETURNED = "dossier_returned"
    DECISION_MADE = "decision_made"
    COMMENDATION_DUE = "commendation_due"
    ROUND_OPENED = "round_opened"
    ROUND_CLOSED = "round_closed"
    DAILY_DIGEST = "daily_digest"  # written by the digest builder only


class Channel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"
    IN_APP = "in_app"


# Kinds that never wait for the digest: an escalation is news the official must see today.
URGENT_KINDS = frozenset({NotificationKind.TASK_ESCALATED})


class Recipients(BaseModel):
    """Who receives an event: the holders of `roles` over the unit (unit-scoped or province-wide assignments), or
    over the whole province when `unit_code` is None, plus any officials named in `official_ids`."""

    model_config = ConfigDict(frozen=True)

    roles: tuple[Role, ...] = ()
    province_code: str | None = None
    unit_code: str | None = None
    official_ids: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _scoped(self) -> Recipients:
        if self.roles and not self.province_code:
            raise ValueError("recipients by role need the province_code of their scope")
        if not self.roles and not self.official_ids:
            raise ValueError("name recipients by role or by official id")
        return self


class OutboxEvent(BaseModel):
    """One event that concerns people; `notify.outbox.enqueue` turns it into one row per recipient and channel.

    `dedup_key` names the event once and for all (e.g. `case:<case id>:<seq>:task_assigned`): enqueuing the same
    key again (a retried transaction) writes nothing new. `context` is handed to the template (see
    `notify/templates/`); `occurred_at` is the business time of the event (quiet hours and the digest day count
    from it, never from a clock).
    """

    model_config = ConfigDict(frozen=True)

    kind: NotificationKind
    dedup_key: str = Field(min_length=1, max_length=400)
    recipients: Recipients
    occurred_at: datetime
    province_code: str | None = None
    unit_code: str | None = None
    case_id: str | None = None
    task_id: str | None = None
    link_path: str | None = None  # e.g. /v1/tasks/<id>; the public URL is put in front when rendering
    context: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _aware(self) -> OutboxEvent:
        if self.occurred_at.tzinfo is None:
            raise ValueError("occurred_at must be timezone-aware")
        return self


def outbox_id(dedup_key: str, official_id: str, channel: Channel) -> str:
    """The id of the message for (event, recipient, channel): the same inputs give the same id, on every retry."""
    digest = hashlib.sha256(f"{dedup_key}\x1f{official_id}\x1f{channel.value}".encode()).hexdigest()
    return f"ntf_{digest[:32]}"
