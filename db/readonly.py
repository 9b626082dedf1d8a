"""Reads without the ORM session: a route that only reads (the inbox) runs its few statements through the driver
itself on one pooled connection, each statement compiled once, never built, keyed and compiled per request.

`ReadOnly` takes a connection from the engine's pool at its first read (a request refused before any read never
takes one) and gives it back at `close`. No transaction is opened: each statement runs on its own, which under READ
COMMITTED sees what it would see inside one (each statement its own snapshot). A route that writes, or needs several
statements to see one snapshot, takes an `AsyncSession`.

`fetch(db, statement, params)` runs a statement whose values are `bindparam`s by name on either (a `ReadOnly`, or an
`AsyncSession` as every other caller has) and gives its rows by column name; `fetch_sql` does the same with SQL
already compiled for the engine's dialect (`services/inbox/compiled.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.sql.compiler import SQLCompiler

Rows = Sequence[Mapping[Any, Any]]  # by column name


class ReadOnly:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._connection: AsyncConnection | None = None
        self._driver: Any = None  # asyncpg's connection under the pooled one

    @property
    def dialect(self) -> Dialect:
        return self.engine.dialect

    async def fetch_sql(self, sql: str, args: Sequence[Any]) -> Rows:
        """The rows of SQL compiled for this engine's dialect, with its positional parameters."""
        if self._driver is None:
            self._connection = await self.engine.connect()
            self._driver = self._connection.sync_connection.connection.driver_connection  # type: ignore[union-attr]
        rows: Rows = await self._driver.fetch(sql, *args)
        return rows

    async def close(self) -> None:
        if self._connection is not None:
            self._driver = None
            await self._connection.close()
            self._connection = None


# statement -> (the dialect it was compiled for, the compiled statement)
_compiled: dict[int, tuple[Executable, Dialect, SQLCompiler]] = {}


def _compile(statement: Executable, dialect: Dialect) -> SQLCompiler:
    found = _compiled.get(id(statement))
    if found is not None and found[0] is statement and found[1] is dialect:
        return found[2]
    compiled: SQLCompiler = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
    if compiled.positiontup is None or compiled._bind_processors:
        raise RuntimeError(f"{dialect.name}: a statement read through the driver needs plain positional parameters")
    _compiled[id(statement)] = (statement, dialect, compiled)
    return compiled


async def fetch(db: ReadOnly | AsyncSession, statement: Executable, params: Mapping[str, Any]) -> Rows:
    """The rows of `statement` (built once, its values `bindparam`s named in `params`) by column name."""
    if isinstance(db, AsyncSession):
        return (await db.execute(statement, params)).mappings().all()
    compiled = _compile(statement, db.dialect)
    assert compiled.positiontup is not None
    values = compiled.params
    return await db.fetch_sql(compiled.string, [params[k] if k in params else values[k] for k in compiled.positiontup])


async def fetch_sql(db: ReadOnly | AsyncSession, sql: str, args: Sequence[Any]) -> Rows:
    """The rows of SQL compiled for the dialect of `db`'s engine, with its positional parameters, by column name."""
    if isinstance(db, AsyncSession):
        connection = await db.connection()
        return (await connection.exec_driver_sql(sql, tuple(args))).mappings().all()
    return await db.fetch_sql(sql, args)


def dialect_of(db: ReadOnly | AsyncSession) -> Dialect:
    return db.dialect if isinstance(db, ReadOnly) else db.get_bind().dialect
