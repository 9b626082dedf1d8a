"""The pool replaces a connection the server has closed when it is checked out, without asking the server first
(db/session.py): the next transaction runs on a new connection instead of failing on the dead one."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from db.session import make_engine


async def test_a_connection_the_server_closed_is_replaced_on_checkout(database_url: str) -> None:
    engine = make_engine(database_url, pool_size=1)
    admin = make_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            first = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            driver = (await conn.get_raw_connection()).driver_connection
        async with admin.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        for _ in range(200):  # until the driver has read the server's goodbye
            if driver.is_closed():
                break
            await asyncio.sleep(0.05)
        assert driver.is_closed()
        async with engine.connect() as conn:
            second = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert second != first
    finally:
        await engine.dispose()
        await admin.dispose()
