"""The outbox: notification rows written in the caller's transaction, together with the change they announce.

Use it from any activity that changes state people must hear about:

    async with sessions() as session, session.begin():
        ...  # the state change
        ids = await enqueue(session, OutboxEvent(kind=NotificationKind.TASK_ESCALATED, dedup_key=..., ...))
    # hand `ids` to the workflow, which calls `workflows.dispatch.dispatch_notifications(ids)`

`enqueue` resolves the recipients (notify/recipients.py: role holders or named officials; deputies for those on
leave), reads their preferences, renders each message in the official's language, and inserts one row per
(recipient, channel) with the id `outbox_id(dedup_key, official, channel)` — `ON CONFLICT DO NOTHING`, so
re-running the same transaction inserts nothing new. It never commits.

It returns the ids a delivery workflow must carry (email and webhook rows to send now or after quiet hours), the
same ids on every re-run. In-app rows are delivered by being written; email held for the digest waits for the
digest workflow. Neither is returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import RecordTransitionInput
from db.models import UnitRow
from db.models_notify import NotificationRow
from notify.events import Channel, OutboxEvent, outbox_id
from notify.preferences import ChannelPlan, plan
from notify.recipients import Recipient, resolve_recipients, resolve_recipients_many
from notify.templates import Rendered, render
from notify.transitions import events_for_transition

log = structlog.get_logger(__name__)


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
    public_url, default_webhook_url = _urls(public_url, default_webhook_url)
    recipients = await resolve_recipients(session, event)
    unit_name = None
    if event.unit_code and "unit_name" not in event.context:
        unit_name = await session.scalar(select(UnitRow.name).where(UnitRow.code == event.unit_code))
    rows, dispatch = _messages(event, recipients, unit_name, public_url, default_webhook_url)
    if rows:
        await session.execute(insert(NotificationRow).values(rows).on_conflict_do_nothing(index_elements=["id"]))
    return dispatch


async def enqueue_many(session: AsyncSession, events: Sequence[OutboxEvent]) -> list[list[str]]:
    """`enqueue` for many events at once (a round opening its cases): the same rows and ids as one `enqueue` per
    event, with the recipients and the units' names read in two queries for all of them and one insert."""
    public_url, default_webhook_url = _urls(None, None)
    recipients = await resolve_recipients_many(session, events)
    units = {e.unit_code for e in events if e.unit_code and "unit_name" not in e.context}
    names: dict[str, str] = {}
    if units:
        names = dict((await session.execute(select(UnitRow.code, UnitRow.name).where(UnitRow.code.in_(units)))).all())
    rows: list[dict[str, Any]] = []
    out: list[list[str]] = []
    for event, people in zip(events, recipients, strict=True):
        event_rows, dispatch = _messages(
            event, people, names.get(event.unit_code or ""), public_url, default_webhook_url
        )
        rows.extend(event_rows)
        out.append(dispatch)
    for start in range(0, len(rows), 1000):  # ~20 parameters a row: well under PostgreSQL's limit per statement
        await session.execute(
            insert(NotificationRow).values(rows[start : start + 1000]).on_conflict_do_nothing(index_elements=["id"])
        )
    return out


def _urls(public_url: str | None, default_webhook_url: str | None) -> tuple[str, str | None]:
    if public_url is None or default_webhook_url is None:
        from infra.settings import get_settings

        settings = get_settings()
        public_url = settings.public_url if public_url is None else public_url
        default_webhook_url = settings.webhook_url if default_webhook_url is None else default_webhook_url
    return public_url, default_webhook_url or None


def _messages(
    event: OutboxEvent,
    recipients: list[Recipient],
    unit_name: str | None,
    public_url: str,
    default_webhook_url: str | None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """The outbox rows of one event for its recipients, and the ids to dispatch."""
    context: dict[str, Any] = dict(event.context)
    if event.unit_code and "unit_name" not in context:
        context["unit_name"] = unit_name or event.unit_code
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
            row = _row(event, person.official_id, step, address, rendered, link=link, context=context)
            rows.append(row)
            if row["status"] == "pending":
                dispatch.append(row["id"])
    log.info(
        "notifications_enqueued",
        kind=event.kind.value,
        dedup_key=event.dedup_key,
        recipients=len(recipients),
        rows=len(rows),
        to_dispatch=len(dispatch),
    )
    return rows, dispatch


def _row(
    event: OutboxEvent,
    official_id: str,
    step: ChannelPlan,
    address: str | None,
    rendered: Rendered,
    *,
    link: str | None,
    context: dict[str, Any],
) -> dict[str, Any]:
    """One outbox row: in-app is delivered by being written, email for the digest is held, the rest is pending."""
    if step.channel == Channel.IN_APP:
        status = "delivered"
    elif step.held_for_digest:
        status = "held"
    else:
        status = "pending"
    return {
        "id": outbox_id(event.dedup_key, official_id, step.channel),
        "kind": event.kind.value,
        "channel": step.channel.value,
        "official_id": official_id,
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


async def enqueue_for_transition(session: AsyncSession, inp: RecordTransitionInput) -> list[str]:
    """The news of one recorded case transition (see `notify.transitions`), in the transition's transaction: its
    events' recipients, units and messages read and written together (`enqueue_many`)."""
    return (await enqueue_for_transitions(session, [inp]))[0]


async def enqueue_for_transitions(session: AsyncSession, inputs: Sequence[RecordTransitionInput]) -> list[list[str]]:
    """`enqueue_for_transition` for many transitions at once (see `enqueue_many`), ids in the same order."""
    events = [list(events_for_transition(inp)) for inp in inputs]
    flat = [e for group in events for e in group]
    ids = iter(await enqueue_many(session, flat))
    return [[i for _ in group for i in next(ids)] for group in events]
