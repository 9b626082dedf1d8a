"""PostgreSQL out of reach between the send and the `delivered` mark: the message is out, so the delivery waits for
the database and records it, instead of failing the attempt (whose retry would send the message a second time)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment

from db.session import make_engine, make_session_factory
from notify.payloads import NotificationRef
from tests.faults.stack import TcpProxy
from tests.notify.support import SmtpServer, delivery, rows
from tests.notify.test_delivery import enqueue_one
from tests.support import seed


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
