"""Delivery of outbox rows: plan, send (email or signed webhook), mark failed, build the daily digests.

`deliver_notification` is safe to retry and never sends a row twice on purpose:

1. claim (one transaction): a row already `delivered`, `failed`, `held` or `digested` is returned as it is, nothing
   sent; otherwise it becomes `sending`, attempts + 1;
2. send, with the outbox id as the Message-ID / X-Xptt-Id;
3. mark `delivered` (one transaction).

A crash between 2 and 3 leaves the row `sending`; the retry sends the same message with the same id again, which
receivers collapse (see notify/mailer.py and notify/webhook.py for the exact guarantee). A database out of reach at
3 is no crash: the message is out, so the mark is tried again for up to `mark_patience` seconds (within the attempt's
start-to-close timeout) instead of failing the attempt, whose retry would send the message a second time. A permanent
refusal (SMTP 5xx for the recipient, a webhook 4xx) marks the row `failed` and returns; transient errors are raised
and retried by Temporal with backoff; when the delivery workflow gives up it calls `mark_notification_failed`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import structlog
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from db.models_notify import NotificationRow
from infra.settings import Settings
from notify.digest import build_digests
from notify.errors import DeliveryError, PermanentDeliveryError
from notify.events import Channel
from notify.mailer import Mailer, build_email
from notify.payloads import (
    BuildDigestsInput,
    BuildDigestsResult,
    DeliveryOutcome,
    DeliveryPlan,
    MarkFailedInput,
    NotificationRef,
)
from notify.webhook import WebhookSender

log = structlog.get_logger(__name__)

FINAL = ("delivered", "failed", "held", "digested")
SentHook = Callable[[str], Awaitable[None]]


HEARTBEAT_EVERY = 2.0  # seconds; the delivery workflow's heartbeat timeout is several times this


def _now() -> datetime:
    return datetime.now(UTC)


async def _heartbeats() -> None:
    while True:
        activity.heartbeat()
        await asyncio.sleep(HEARTBEAT_EVERY)


def _outcome(row: NotificationRow) -> DeliveryOutcome:
    return DeliveryOutcome(outbox_id=row.id, status=row.status, attempts=row.attempts, error=row.last_error)


def webhook_payload(row: NotificationRow) -> dict[str, object]:
    return {
        "id": row.id,
        "kind": row.kind,
        "official_id": row.official_id,
        "case_id": row.case_id,
        "task_id": row.task_id,
        "unit_code": row.unit_code,
        "province_code": row.province_code,
        "subject": row.subject,
        "text": row.body,
        "link": row.link,
        "locale": row.locale,
        "created_at": row.created_at.isoformat(),
        "context": row.payload,
    }


class NotificationDelivery:
    """Activities over the outbox. `after_send` is a seam for fault-injection tests (a crash after the receiver got
    the message and before it is marked delivered); production passes nothing."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        mailer: Mailer,
        webhooks: WebhookSender,
        *,
        after_send: SentHook | None = None,
        mark_patience: float = 60.0,
    ) -> None:
        self._sessions = session_factory
        self._mailer = mailer
        self._webhooks = webhooks
        self._after_send = after_send
        self._mark_patience = mark_patience

    @activity.defn(name="plan_notification_delivery")
    async def plan_delivery(self, inp: NotificationRef) -> DeliveryPlan:
        async with self._sessions() as session:
            row = await session.get(NotificationRow, inp.outbox_id)
        if row is None:
            raise ApplicationError(f"no notification {inp.outbox_id}", type="notification_missing", non_retryable=True)
        send = row.status not in FINAL and row.channel != Channel.IN_APP.value
        return DeliveryPlan(outbox_id=row.id, send=send, status=row.status, deliver_after=row.deliver_after)

    @activity.defn(name="deliver_notification")
    async def deliver(self, inp: NotificationRef) -> DeliveryOutcome:
        # Heartbeats tell Temporal the attempt lives: a worker that dies mid-send is noticed within the heartbeat
        # timeout the delivery workflow sets, not at the end of the whole start-to-close timeout.
        beating = asyncio.create_task(_heartbeats()) if activity.in_activity() else None
        try:
            return await self._deliver(inp)
        finally:
            if beating is not None:
                beating.cancel()

    async def _deliver(self, inp: NotificationRef) -> DeliveryOutcome:
        row = await self._claim(inp.outbox_id)
        if row.status != "sending":
            return _outcome(row)
        try:
            await self._send(row)
        except PermanentDeliveryError as exc:
            return await self._finish(row.id, "failed", error=str(exc))
        except DeliveryError as exc:
            await self._note_error(row.id, str(exc))
            log.warning(
                "notification_retry", outbox_id=row.id, channel=row.channel, attempt=row.attempts, error=str(exc)
            )
            raise ApplicationError(str(exc), type=exc.code) from None
        if self._after_send is not None:
            await self._after_send(row.id)
        return await self._mark_delivered(row.id)

    @activity.defn(name="mark_notification_failed")
    async def mark_failed(self, inp: MarkFailedInput) -> DeliveryOutcome:
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(NotificationRow)
                .where(NotificationRow.id == inp.outbox_id, NotificationRow.status.in_(("pending", "sending")))
                .values(status="failed", failed_at=_now(), last_error=inp.error[:2000])
            )
            row = await session.get(NotificationRow, inp.outbox_id)
        if row is None:
            return DeliveryOutcome(outbox_id=inp.outbox_id, status="missing")
        log.error(
            "notification_failed", outbox_id=row.id, channel=row.channel, attempts=row.attempts, error=row.last_error
        )
        return _outcome(row)

    @activity.defn(name="build_daily_digests")
    async def build_daily_digests(self, inp: BuildDigestsInput) -> BuildDigestsResult:
        async with self._sessions() as session, session.begin():
            ids, items = await build_digests(session, day=inp.day, hour=inp.hour)
        return BuildDigestsResult(day=inp.day, outbox_ids=ids, items=items)

    # -- steps -----------------------------------------------------------------------------------------------------
    async def _claim(self, outbox_id: str) -> NotificationRow:
        async with self._sessions() as session, session.begin():
            row = (
                await session.execute(select(NotificationRow).where(NotificationRow.id == outbox_id).with_for_update())
            ).scalar_one_or_none()
            if row is None:
                raise ApplicationError(f"no notification {outbox_id}", type="notification_missing", non_retryable=True)
            if row.status in FINAL or row.channel == Channel.IN_APP.value:
                return row
            row.status = "sending"
            row.attempts += 1
            row.sending_at = _now()
        return row

    async def _send(self, row: NotificationRow) -> None:
        if not row.address:
            raise PermanentDeliveryError(f"notification {row.id} has no address", code="no_address")
        if row.channel == Channel.EMAIL.value:
            message = build_email(
                outbox_id=row.id,
                sender=self._mailer.sender,
                to=row.address,
                to_name=None,
                subject=row.subject,
                body=row.body,
                created_at=row.created_at,
                locale=row.locale,
            )
            await self._mailer.send(message)
        elif row.channel == Channel.WEBHOOK.value:
            await self._webhooks.send(row.address, row.id, webhook_payload(row), timestamp=int(_now().timestamp()))
        else:
            raise PermanentDeliveryError(f"unknown channel {row.channel}", code="unknown_channel")
        log.info("notification_sent", outbox_id=row.id, channel=row.channel, kind=row.kind, attempt=row.attempts)

    async def _finish(self, outbox_id: str, status: str, *, error: str | None = None) -> DeliveryOutcome:
        now = _now()
        values: dict[str, object] = {"status": status}
        if status == "delivered":
            values["delivered_at"] = now
        else:
            values.update(failed_at=now, last_error=(error or "")[:2000])
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(NotificationRow)
                .where(NotificationRow.id == outbox_id, NotificationRow.status == "sending")
                .values(**values)
            )
            row = await session.get(NotificationRow, outbox_id)
        assert row is not None
        if status == "failed":
            log.error("notification_failed", outbox_id=outbox_id, channel=row.channel, error=error)
        else:
            log.info("notification_delivered", outbox_id=outbox_id, channel=row.channel, attempts=row.attempts)
        return _outcome(row)

    async def _mark_delivered(self, outbox_id: str) -> DeliveryOutcome:
        """The message is out: record it, waiting out a database that is briefly out of reach (backoff 0.5 s to 5 s,
        `mark_patience` in all). Failing here would have the retry send it again."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._mark_patience
        delay = 0.5
        while True:
            try:
                return await self._finish(outbox_id, "delivered")
            except (SQLAlchemyError, OSError) as exc:
                if loop.time() + delay > deadline:
                    raise
                log.warning("notification_mark_retry", outbox_id=outbox_id, error=f"{type(exc).__name__}: {exc}")
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _note_error(self, outbox_id: str, error: str) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(NotificationRow).where(NotificationRow.id == outbox_id).values(last_error=error[:2000])
            )


def delivery_from_settings(
    session_factory: async_sessionmaker[AsyncSession], settings: Settings
) -> NotificationDelivery:
    return NotificationDelivery(
        session_factory,
        Mailer.from_settings(settings),
        WebhookSender(secret=settings.webhook_secret, timeout=settings.webhook_timeout),
    )
