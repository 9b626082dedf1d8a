"""Shared helpers for commands: settings, the database, one-line errors, table cells."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import NoReturn

from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import glossary
from db.session import make_engine, make_session_factory
from infra.settings import Settings, get_settings

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    sys.exit(code)


def settings_with_database() -> Settings:
    s = get_settings()
    if not s.database_url:
        fail("DATABASE_URL is not set (the dev stack sets it; in production point it at PostgreSQL)", 2)
    return s


@asynccontextmanager
async def database(settings: Settings, *, pool_size: int = 2) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on DATABASE_URL for one command; the connections close when it ends."""
    engine = make_engine(settings.database_url, pool_size=pool_size)
    try:
        yield make_session_factory(engine)
    finally:
        await engine.dispose()


def task_cells(unit_name: str, unit_code: str, stage: str, due_at: datetime | None) -> tuple[str, str, str]:
    """Where a task stands, as the tables show it: its unit, its stage by name, its due time (Vietnam)."""
    return f"{unit_name} ({unit_code})", glossary.term("stage", stage), glossary.moment(due_at) if due_at else ""
