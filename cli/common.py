"""Shared helpers for commands: settings, the database, one-line errors, table cells."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, NoReturn

from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import glossary
from db.session import make_engine, make_session_factory
from infra.settings import Settings, get_settings
from web.i18n import Translator
from web.text_cli import PYDANTIC_KEYS

if TYPE_CHECKING:
    from pydantic import ValidationError

    from services.errors import Refusal

console = Console()
err_console = Console(stderr=True)
T = Translator("vi")  # what the commands say is Vietnamese (web/text_cli.py and the glossary)
NAMED = ("round_id", "case_id", "task_id", "unit_code", "official_id")  # a refusal's extras that say which one


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]{T('cli_error')}[/] {message}", highlight=False)
    sys.exit(code)


def refusal_text(exc: Refusal, *, options: bool = False) -> str:
    """A service's refusal in the glossary's words when it has them (its field named, as the command's option
    `--field` when `options`), else its own reason."""
    said = glossary.refusal(exc.code, exc.extra)
    if said is None:
        return exc.detail  # a service's own reason names its field
    field = exc.extra.get("field")
    named = [str(exc.extra[k]) for k in NAMED if k in exc.extra and k != field]
    if named:  # which one was not found, or refused
        said = T("cli_named", said=said.rstrip("."), value=", ".join(named))
    if exc.code == "empty_filter":  # the command's way to confirm
        said += " " + T("cli_all_needed")
    if exc.code == "pdf_font_missing" and "missing" in exc.extra:  # the operator is the one to mend it
        said += " " + T("cli_font_missing", missing=", ".join(exc.extra["missing"]), directory=exc.extra["directory"])
    return T("cli_field", field=f"--{field}" if options else field, reason=said) if field else said


def invalid_text(exc: ValidationError, *, prefix: str = "") -> str:
    """The first problem pydantic found in a command's input: the option or field, and why."""
    first = exc.errors()[0]
    field = prefix + ".".join(str(p) for p in first["loc"])
    key = PYDANTIC_KEYS.get(first["type"])
    reason = T(key, **(first.get("ctx") or {})) if key else T("cli_invalid", reason=first["msg"])
    return T("cli_field", field=field, reason=reason) if field else reason


def settings_with_database() -> Settings:
    s = get_settings()
    if not s.database_url:
        fail(T("cli_no_database"), 2)
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
