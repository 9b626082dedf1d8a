"""Shared helpers for commands: settings, one-line errors, running coroutines."""

from __future__ import annotations

import sys
from typing import NoReturn

from rich.console import Console

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
