"""The delivery activity against a real SMTP server (aiosmtpd) and a real webhook receiver: one message per row,
the outbox id as Message-ID, no duplicate after a crash between send and mark, permanent refusals end `failed`,
a server that is down is retried."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from db.models import OfficialRow
from db.models_notify import NotificationRow
from notify.events import Channel
from notify.inbox import failed_notifications, set_preferences
from notify.payloads import MarkFailedInput, NotificationRef
from notify.preferences import Preferences
from tests.notify.support import (
    REFUSED_DOMAIN,
    SmtpServer,
    WebhookReceiver,
    delivery,
    enqueue_committed,
    outbox_event,
    rows,
)
from tests.support import PROVINCE, ROUND_ID, seed

T0 = datetime(2027, 10, 1, 2, 0, tzinfo=UTC)


class Crash(Exception):
    """The worker dies after the receiver got the message, before the row is marked delivered."""


async def enqueue_one(sessions: async_sessionmaker[AsyncSession], unit: str, key: str = "k1") -> list[str]:
    """The self-assessment task of the unit's case assigned to its commune officer, enqueued."""
    task_id = f"{ROUND_ID}-{unit}-t02"
    event = outbox_event(
        unit, key, T0, task_id=task_id, link_path=f"/v1/tasks/{task_id}", context={"role": "commune_officer"}
    )
    return await enqueue_committed(sessions, event)


async def test_an_email_goes_out_once_with_the_outbox_id_as_message_id(
    sessions: async_sessionmaker[AsyncSession], smtp: SmtpServer
) -> None:
    unit, _ = await seed(sessions)
    [oid] = await enqueue_one(sessions, unit)
    activities = delivery(sessions, smtp)
    env = ActivityEnvironment()
    outcome = await env.run(activities.deliver, NotificationRef(outbox_id=oid))
    again = await env.run(activities.deliver, NotificationRef(outbox_id=oid))
    assert (outcome.status, outcome.attempts) == ("delivered", 1)
    assert (again.status, again.attempts) == ("delivered", 1)
    [mail] = smtp.messages()
    assert mail["Message-ID"] == f"<{oid}@xptt.test>"
    assert mail["X-Xptt-Notification-Id"] == oid
    assert mail["To"] == f"demo-officer-{unit}@example.invalid"
    assert str(mail["Subject"]).startswith("[xptt] Nhiệm vụ mới: Tự đánh giá - ")
    body = mail.get_body()
    assert body is not None and "Kính gửi Nguyễn Thị Lan" in body.get_content()
    [row] = await rows(sessions, channel="email")
    assert row.status == "delivered" and row.delivered_at is not None


async def test_a_crash_between_send_and_mark_then_a_retry_leaves_one_message_at_the_receiver(
    sessions: async_sessionmaker[AsyncSession], smtp: SmtpServer, receiver: WebhookReceiver
) -> None:
    unit, _ = await seed(sessions)
    async with sessions() as session, session.begin():
        await set_preferences(
            session,
            f"demo-officer-{unit}",
            Preferences(channels=frozenset({Channel.EMAIL, Channel.WEBHOOK}), webhook_url=receiver.url),
            at=T0,
        )
    ids = await enqueue_one(sessions, unit)
    assert len(ids) == 2

    async def crash(_: str) -> None:
        raise Crash

    env = ActivityEnvironment()
    for oid in ids:
        with pytest.raises(Crash):
            await env.run(delivery(sessions, smtp, after_send=crash).deliver, NotificationRef(outbox_id=oid))
    assert {r.status for r in await rows(sessions)} == {"sending"}

    for oid in ids:  # the retry, on a healthy worker
        outcome = await env.run(delivery(sessions, smtp).deliver, NotificationRef(outbox_id=oid))
        assert (outcome.status, outcome.attempts) == ("delivered", 2)

    # SMTP: the transport carried the message twice, byte-identical, with the same Message-ID: one mail in the box
    sent = smtp.messages()
    assert len(sent) == 2 and sent[0].as_bytes() == sent[1].as_bytes()
    assert len(smtp.sink.distinct()) == 1
    assert len(list((smtp.sink.directory or smtp_dir_missing()).glob("*.eml"))) == 1
    # webhook: the receiver's verifier recognised the retry by its id and did not act on it again
    assert receiver.attempts == 2
    assert len(receiver.accepted) == 1 and receiver.duplicates == [receiver.accepted[0]["id"]]


def smtp_dir_missing() -> object:
    raise AssertionError("the test SMTP server keeps no directory")


async def test_a_permanently_refused_address_ends_failed_and_shows_on_the_board(
    sessions: async_sessionmaker[AsyncSession], smtp: SmtpServer
) -> None:
    unit, _ = await seed(sessions)
    async with sessions() as session, session.begin():
        officer = await session.get(OfficialRow, f"demo-officer-{unit}")
        assert officer is not None
        officer.email = "nobody" + REFUSED_DOMAIN
    [oid] = await enqueue_one(sessions, unit)
    outcome = await ActivityEnvironment().run(delivery(sessions, smtp).deliver, NotificationRef(outbox_id=oid))
    assert outcome.status == "failed"
    assert outcome.error is not None and "smtp_recipient_refused" in outcome.error and "550" in outcome.error
    assert smtp.messages() == []
    async with sessions() as session:
        [failed] = await failed_notifications(session, PROVINCE)
    assert (failed.id, failed.address, failed.attempts) == (oid, "nobody" + REFUSED_DOMAIN, 1)


async def test_a_server_that_is_down_is_a_retryable_error_and_the_message_goes_when_it_returns(
    sessions: async_sessionmaker[AsyncSession], smtp: SmtpServer
) -> None:
    unit, _ = await seed(sessions)
    [oid] = await enqueue_one(sessions, unit)
    smtp.stop()
    env = ActivityEnvironment()
    with pytest.raises(ApplicationError) as info:
        await env.run(delivery(sessions, smtp).deliver, NotificationRef(outbox_id=oid))
    assert info.value.type == "smtp_unavailable" and not info.value.non_retryable
    [row] = await rows(sessions, channel="email")
    assert row.status == "sending" and row.last_error and row.last_error.startswith("smtp_unavailable")
    smtp.start()
    outcome = await env.run(delivery(sessions, smtp).deliver, NotificationRef(outbox_id=oid))
    assert (outcome.status, outcome.attempts) == ("delivered", 2)
    assert len(smtp.messages()) == 1


async def test_giving_up_marks_failed_but_never_undoes_a_delivery(
    sessions: async_sessionmaker[AsyncSession], smtp: SmtpServer
) -> None:
    unit, _ = await seed(sessions)
    [first] = await enqueue_one(sessions, unit, key="a")
    [second] = await enqueue_one(sessions, unit, key="b")
    activities = delivery(sessions, smtp)
    env = ActivityEnvironment()
    await env.run(activities.deliver, NotificationRef(outbox_id=first))
    kept = await env.run(activities.mark_failed, MarkFailedInput(outbox_id=first, error="late"))
    failed = await env.run(activities.mark_failed, MarkFailedInput(outbox_id=second, error="retries exhausted"))
    assert kept.status == "delivered"
    assert (failed.status, failed.error) == ("failed", "retries exhausted")
    async with sessions() as session:
        row = await session.get(NotificationRow, second)
    assert row is not None and row.failed_at is not None
