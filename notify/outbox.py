"""The outbox: notification rows written in the caller's transaction, together with the change they announce.

Use it from any activity that changes state people must hear about:

    async with sessions() as session, session.begin():
        ...  # the state change
        ids = await enqueue(session, OutboxEvent(kind=NotificationKind.TASK_ESCALATED, dedup_key=..., ...))
    # hand `ids` to the workflow, which calls `workflows.notification.dispatch_notifications(ids)`

`enqueue` resolves the recipients (role holders from `role_assignments`, or named officials), reads their
preferences, renders each message in the official's language, and inserts one row per (recipient, channel) with
the id `outbox_id(dedup_key, official, channel)` — `ON CONFLICT DO NOTHING`, so re-running the same transaction
inserts nothing new. It never commits.

It returns the ids a delivery workflow must carry (email and webhook rows to send now or after quiet hours), the
same ids on every re-run. In-app rows are delivered by being written; email held for the digest waits for the
digest workflow. Neither is returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from activities.inputs import RecordTransitionInput
from db.models import OfficialRow, RoleAssignmentRow, UnitRow
from db.models_notify import NotificationPreferenceRow, NotificationRow
from notify.events import Channel, OutboxEvent, outbox_id
from notify.preferences import DEFAULT, Preferences, plan
from notify.templates import render
from notify.transitions import events_for_transition

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Recipient:
    official_id: str
    full_name: str
    email: str | None
    preferences: Preferences


def preferences_of(row: NotificationPreferenceRow | None) -> Preferences:
    if row is None:
        return DEFAULT
    return Preferences(
        channels=frozenset(Channel(c) for c in row.channels),
        digest=row.digest,
        quiet_start=row.quiet_start,
        quiet_end=row.quiet_end,
        locale=row.locale,
        webhook_url=row.webhook_url,
    )


async def resolve_recipients(session: AsyncSession, event: OutboxEvent) -> list[Recipient]:
    """Active officials named in the event, or holding one of its roles over its unit (an assignment to that unit
    or to the whole province); with no unit, every holder of the roles in the province. Ordered by id."""
    who = event.recipients
    conditions: list[ColumnElement[bool]] = []
    if who.official_ids:
        conditions.append(OfficialRow.id.in_(who.official_ids))
    if who.roles:
        scope = [
            RoleAssignmentRow.official_id == OfficialRow.id,
            RoleAssignmentRow.role.in_([r.value for r in who.roles]),
            RoleAssignmentRow.province_code == who.province_code,
        ]
        if who.unit_code is not None:
            scope.append(or_(RoleAssignmentRow.unit_code.is_(None), RoleAssignmentRow.unit_code == who.unit_code))
        conditions.append(exists().where(*scope))
    rows = (
        await session.execute(
            select(OfficialRow, NotificationPreferenceRow)
            .outerjoin(NotificationPreferenceRow, NotificationPreferenceRow.official_id == OfficialRow.id)
            .where(OfficialRow.active.is_(True), or_(*conditions))
            .order_by(OfficialRow.id)
        )
    ).all()
    return [Recipient(o.id, o.full_name, o.email, preferences_of(p)) for o, p in rows]


def _address(channel: Channel, recipient: Recipient, default_webhook_url: str | None) -> str | None:
    if channel == Channel.EMAIL:
        return recipient.email
    if channel == Channel.WEBHOOK:
        return recipient.preferences.webhook_url or default_webhook_url
    return None


async def enqueue(
    session: AsyncSession,
    event: OutboxEvent,
    *,
    public_url: str | None = None,
    default_webhook_url: str | None = None,
) -> list[str]:
    """Write the event's messages in the caller's transaction; returns the ids to dispatch (see module doc).

    `public_url` (links) and `default_webhook_url` (officials who chose webhooks without a URL of their own) come
    from the settings when not given.
    """
    if public_url is None or default_webhook_url is None:
        from infra.settings import get_settings

        settings = get_settings()
        public_url = settings.public_url if public_url is None else public_url
        default_webhook_url = settings.webhook_url if default_webhook_url is None else default_webhook_url
    recipients = await resolve_recipients(session, event)
    context: dict[str, Any] = dict(event.context)
    if event.unit_code and "unit_name" not in context:
        name = await session.scalar(select(UnitRow.name).where(UnitRow.code == event.unit_code))
        context["unit_name"] = name or event.unit_code
    context.setdefault("unit_code", event.unit_code)
    context.setdefault("case_id", event.case_id)
    context.setdefault("task_id", event.task_id)
    link = f"{public_url.rstrip('/')}{event.link_path}" if event.link_path else None

    rows: list[dict[str, Any]] = []
    dispatch: list[str] = []
    for person in recipients:
        prefs = person.preferences
        rendered = None
        for step in plan(event.kind, prefs, at=event.occurred_at):
            address = _address(step.channel, person, default_webhook_url)
            if step.channel != Channel.IN_APP and not address:
                log.warning(
                    "notification_channel_skipped",
                    official_id=person.official_id,
                    channel=step.channel.value,
                    kind=event.kind.value,
                    reason="no address",
                )
                continue
            if rendered is None:
                rendered = render(
                    event.kind.value, {**context, "recipient": person.full_name, "link": link}, locale=prefs.locale
                )
            oid = outbox_id(event.dedup_key, person.official_id, step.channel)
            if step.channel == Channel.IN_APP:
                status = "delivered"
            elif step.held_for_digest:
                status = "held"
            else:
                status = "pending"
                dispatch.append(oid)
            rows.append(
                {
                    "id": oid,
                    "kind": event.kind.value,
                    "channel": step.channel.value,
                    "official_id": person.official_id,
                    "address": address,
                    "locale": rendered.locale,
                    "dedup_key": event.dedup_key,
                    "case_id": event.case_id,
                    "task_id": event.task_id,
                    "unit_code": event.unit_code,
                    "province_code": event.province_code,
                    "subject": rendered.subject,
                    "body": rendered.body,
                    "link": link,
                    "payload": {"kind": event.kind.value, **context},
                    "status": status,
                    "digest_day": step.digest_day,
                    "deliver_after": step.deliver_after,
                    "created_at": event.occurred_at,
                    "delivered_at": event.occurred_at if status == "delivered" else None,
                }
            )
    if rows:
        await session.execute(insert(NotificationRow).values(rows).on_conflict_do_nothing(index_elements=["id"]))
    log.info(
        "notifications_enqueued",
        kind=event.kind.value,
        dedup_key=event.dedup_key,
        recipients=len(recipients),
        rows=len(rows),
        to_dispatch=len(dispatch),
    )
    return dispatch


async def enqueue_for_transition(session: AsyncSession, inp: RecordTransitionInput) -> list[str]:
    """The news of one recorded case transition (see `notify.transitions`), in the transition's transaction."""
    ids: list[str] = []
    for event in events_for_transition(inp):
        ids.extend(await enqueue(session, event))
    return ids
