"""Delivery and digest workflows on real Temporal servers: retries with backoff while the SMTP server is down,
giving up ends `failed`, quiet hours wait on a durable timer, and the digest gathers a day into one mail per
official (time-skipping server for the days and hours)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from db.models_notify import NotificationRow
from domain.stages import Role
from infra.embedded import temporal_test_server_binary
from notify.inbox import failed_notifications, set_preferences
from notify.payloads import DeliverNotificationInput, DigestInput
from notify.preferences import Preferences
from tests.notify.support import (
    SmtpServer,
    delivery,
    enqueue_committed,
    notify_worker,
    outbox_event,
    rows,
    wait_rows,
)
from tests.support import PROVINCE, ROUND_ID, seed
from workflows.notification import NotificationDeliveryWorkflow, NotificationDigestWorkflow

T0 = datetime(2025, 10, 1, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội, in the past: no quiet-hour waits


@pytest.fixture(scope="module")
async def skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=temporal_test_server_binary(), data_converter=pydantic_data_converter
    )
    yield env
    await env.shutdown()


async def enqueue_for(
    sessions: async_sessionmaker[AsyncSession], unit: str, role: Role, key: str, at: datetime = T0
) -> list[str]:
    """A council-assessment task of the unit's case assigned to its officials of `role`, enqueued."""
    context = {"stage": "council_assessment", "role": role.value}
    event = outbox_event(unit, key, at, role=role, link_path=f"/v1/cases/{ROUND_ID}-{unit}", context=context)
    return await enqueue_committed(sessions, event)


async def test_mail_is_delivered_after_the_smtp_server_comes_back_and_nothing_is_lost(
    temporal_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession], smtp: SmtpServer
) -> None:
    unit, _ = await seed(sessions)
    ids = [*await enqueue_for(sessions, unit, Role.COMMUNE_OFFICER, "a")]
    ids += await enqueue_for(sessions, unit, Role.COUNCIL_CHAIR, "b")
    smtp.stop()
    async with notify_worker(temporal_env.client, f"test-{uuid.uuid4()}", delivery(sessions, smtp)) as queue:
        handles = [
            await temporal_env.client.start_workflow(
                NotificationDeliveryWorkflow.run,
                DeliverNotificationInput(outbox_id=oid, retry_initial_seconds=0.2, retry_max_interval_seconds=0.5),
                id=oid,
                task_queue=queue,
            )
            for oid in ids
        ]
        down = await wait_rows(sessions, lambda rs: all(r.attempts >= 3 for r in rs), channel="email")
        assert {r.status for r in down} == {"sending"}
        assert all(r.last_error and r.last_error.startswith("smtp_unavailable") for r in down)
        smtp.start()
        outcomes = [await h.result() for h in handles]
    assert {o.status for o in outcomes} == {"delivered"}
    assert sorted(m["X-Xptt-Notification-Id"] for m in smtp.messages()) == sorted(ids)


async def test_a_message_that_exhausts_its_retries_ends_failed_and_visible(
    temporal_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession], smtp: SmtpServer
) -> None:
    unit, _ = await seed(sessions)
    [oid] = await enqueue_for(sessions, unit, Role.COMMUNE_OFFICER, "a")
    smtp.stop()
    async with notify_worker(temporal_env.client, f"test-{uuid.uuid4()}", delivery(sessions, smtp)) as queue:
        outcome = await temporal_env.client.execute_workflow(
            NotificationDeliveryWorkflow.run,
            DeliverNotificationInput(outbox_id=oid, retry_initial_seconds=0.1, max_attempts=3),
            id=oid,
            task_queue=queue,
        )
    assert (outcome.status, outcome.attempts) == ("failed", 3)
    async with sessions() as session:
        [failed] = await failed_notifications(session, PROVINCE)
    assert failed.id == oid
    assert (
        failed.last_error
        and failed.last_error.startswith("retries exhausted")
        and "smtp_unavailable" in failed.last_error
    )


async def test_quiet_hours_hold_the_mail_on_a_durable_timer(
    skipping_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession], smtp: SmtpServer
) -> None:
    unit, _ = await seed(sessions)
    [oid] = await enqueue_for(sessions, unit, Role.COMMUNE_OFFICER, "a")
    start = await skipping_env.get_current_time()
    morning = start + timedelta(hours=8)
    async with sessions() as session, session.begin():
        await session.execute(update(NotificationRow).where(NotificationRow.id == oid).values(deliver_after=morning))
    async with notify_worker(skipping_env.client, f"test-{uuid.uuid4()}", delivery(sessions, smtp)) as queue:
        outcome = await skipping_env.client.execute_workflow(
            NotificationDeliveryWorkflow.run, DeliverNotificationInput(outbox_id=oid), id=oid, task_queue=queue
        )
        assert outcome.status == "delivered"
        assert await skipping_env.get_current_time() >= morning
    assert len(smtp.messages()) == 1


async def test_the_digest_gathers_a_day_into_one_mail_per_official_once(
    skipping_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession], smtp: SmtpServer
) -> None:
    unit, _ = await seed(sessions)
    officer, chair = f"demo-officer-{unit}", f"demo-council-chair-{unit}"
    async with sessions() as session, session.begin():
        for official in (officer, chair):
            await set_preferences(session, official, Preferences(digest=True), at=T0)
    for n in range(3):
        assert await enqueue_for(sessions, unit, Role.COMMUNE_OFFICER, f"o{n}", T0 + timedelta(hours=n)) == []
    assert await enqueue_for(sessions, unit, Role.COUNCIL_CHAIR, "c0") == []
    # held after the cutoff (07:00 on 2 Oct, local): tomorrow's digest
    late = datetime(2025, 10, 2, 1, 0, tzinfo=UTC)
    assert await enqueue_for(sessions, unit, Role.COMMUNE_OFFICER, "late", late) == []
    assert smtp.messages() == []

    async with notify_worker(skipping_env.client, f"test-{uuid.uuid4()}", delivery(sessions, smtp)) as queue:
        built = await skipping_env.client.execute_workflow(
            NotificationDigestWorkflow.run,
            DigestInput(day=date(2025, 10, 2), hour=7),
            id=f"digest-{uuid.uuid4()}",
            task_queue=queue,
        )
        assert (len(built.outbox_ids), built.items) == (2, 4)
        mails = await smtp.wait_for(2)
        await wait_rows(sessions, lambda rs: {r.status for r in rs} == {"delivered"}, kind="daily_digest")
        again = await skipping_env.client.execute_workflow(
            NotificationDigestWorkflow.run,
            DigestInput(day=date(2025, 10, 2), hour=7),
            id=f"digest-{uuid.uuid4()}",
            task_queue=queue,
        )
        assert (again.outbox_ids, again.items) == ([], 0)
        await asyncio.sleep(0.5)
    assert len(smtp.messages()) == 2
    by_to = {m["To"]: m for m in mails}
    digest = by_to[f"{officer}@example.invalid"]
    assert str(digest["Subject"]) == "[xptt] Tổng hợp thông báo ngày 02/10/2025 (3 thông báo)"
    text = digest.get_body().get_content()  # type: ignore[union-attr]
    assert text.count("[xptt] Nhiệm vụ mới: Hội đồng đánh giá") == 3
    assert str(by_to[f"{chair}@example.invalid"]["Subject"]).endswith("(1 thông báo)")
    states = {(r.official_id, r.kind, r.status) for r in await rows(sessions, channel="email")}
    assert (officer, "task_assigned", "digested") in states
    assert (officer, "task_assigned", "held") in states  # the late one
    assert (officer, "daily_digest", "delivered") in states
