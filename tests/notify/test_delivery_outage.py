"""Faults around a send: PostgreSQL out of reach between the send and the `delivered` mark (the message is out, so
the delivery waits for the database and records it, instead of failing the attempt, whose retry would send the
message a second time); a worker that dies mid-send (the attempt heartbeats, so Temporal retries it after the
heartbeat timeout rather than the whole start-to-close timeout)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.notify import HEARTBEAT_EVERY
from db.session import make_engine, make_session_factory
from domain.stages import Role
from notify.payloads import DeliverNotificationInput, NotificationRef
from tests.faults.proxy import TcpProxy
from tests.notify.support import SmtpServer, delivery, notify_worker, rows
from tests.notify.test_delivery import enqueue_one
from tests.notify.test_delivery_workflow import enqueue_for
from tests.support import seed
from workflows.notification import SEND_HEARTBEAT_TIMEOUT, NotificationDeliveryWorkflow


@pytest.fixture
async def proxy(pg_server_url: str) -> AsyncIterator[TcpProxy]:
    p = TcpProxy.for_url(pg_server_url)
    p.start()
    yield p
    p.close()


async def test_a_database_out_of_reach_after_the_send_does_not_send_twice(
    sessions: async_sessionmaker[AsyncSession], smtp: SmtpServer, proxy: TcpProxy, database_url: str
) -> None:
    unit, _ = await seed(sessions)
    [oid] = await enqueue_one(sessions, unit)
    engine = make_engine(proxy.url(database_url), pool_size=2)
    through_proxy = make_session_factory(engine)

    async def cut(_: str) -> None:  # the receiver has the message; now the database goes away for 3 s
        proxy.cut(3.0)

    try:
        outcome = await ActivityEnvironment().run(
            delivery(through_proxy, smtp, after_send=cut).deliver, NotificationRef(outbox_id=oid)
        )
    finally:
        await engine.dispose()
    assert proxy.cuts == 1 and proxy.listening
    assert (outcome.status, outcome.attempts) == ("delivered", 1)
    assert len(smtp.messages()) == 1
    [row] = await rows(sessions, channel="email")
    assert row.status == "delivered"


async def test_the_send_heartbeats_so_a_dead_worker_is_noticed_within_the_heartbeat_timeout(
    temporal_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession], smtp: SmtpServer
) -> None:
    unit, _ = await seed(sessions)
    [oid] = await enqueue_one(sessions, unit)

    async def slow(_: str) -> None:  # a send that takes a while: the attempt says it lives
        await asyncio.sleep(2 * HEARTBEAT_EVERY + 0.5)

    beats: list[object] = []
    env = ActivityEnvironment()
    env.on_heartbeat = lambda *details: beats.append(details)
    outcome = await env.run(delivery(sessions, smtp, after_send=slow).deliver, NotificationRef(outbox_id=oid))
    assert outcome.status == "delivered" and len(beats) >= 2

    # The delivery workflow asks for those heartbeats: Temporal retries an attempt that stops beating.
    [again] = await enqueue_for(sessions, unit, Role.COMMUNE_OFFICER, "k2")
    async with notify_worker(temporal_env.client, f"test-{uuid.uuid4()}", delivery(sessions, smtp)) as queue:
        handle = await temporal_env.client.start_workflow(
            NotificationDeliveryWorkflow.run, DeliverNotificationInput(outbox_id=again), id=again, task_queue=queue
        )
        assert (await handle.result()).status == "delivered"
    scheduled = [
        e.activity_task_scheduled_event_attributes
        async for e in handle.fetch_history_events()
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    send = next(a for a in scheduled if a.activity_type.name == "deliver_notification")
    assert send.heartbeat_timeout.ToTimedelta() == SEND_HEARTBEAT_TIMEOUT
    assert SEND_HEARTBEAT_TIMEOUT.total_seconds() >= 3 * HEARTBEAT_EVERY
