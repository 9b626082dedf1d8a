"""Engine and session factory. Repositories take a session and never commit; the caller owns the transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def async_url(url: str) -> str:
    """Accept plain `postgresql://` URLs (as printed by PostgreSQL tools) and use the asyncpg driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url[len("postgresql://") :]
    return url


def _closed_connections_are_replaced(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """On checkout, a pooled connection the server has closed (a restart, an idle timeout, a cut in the network
    that closed the socket) is dropped and the pool opens another. This replaces SQLAlchemy's pre-ping, which asks
    the server (BEGIN, an empty query, ROLLBACK: three round trips) before every transaction; asyncpg learns of a
    closed socket by itself. A connection that died silently fails its first statement instead, and the pool then
    replaces every connection older than it."""
    driver = getattr(dbapi_connection, "driver_connection", None)
    if driver is None or driver.is_closed():
        raise exc.DisconnectionError("the database closed this connection")


def make_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    engine = create_async_engine(async_url(url), pool_size=pool_size, max_overflow=pool_size)
    event.listen(engine.sync_engine, "checkout", _closed_connections_are_replaced)
    return engine


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
