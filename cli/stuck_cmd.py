"""`xptt stuck`: what is stuck in a province — the board (overdue, escalated, held, failed notices, failing
activities)."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.table import Table

import glossary
from cli.common import console, task_cells
from cli.ops import run
from services.board import service
from web.i18n import Translator

T = Translator("vi")  # what people read is Vietnamese (glossary)


def stuck(
    province: str = typer.Option(..., help="two-digit province code, e.g. 33"),
    min_attempts: int = typer.Option(3, min=2, help="an activity counts as failing from this attempt"),
    failing: bool = typer.Option(True, help="also list cases whose activities or workflow tasks keep failing"),
    limit: int = typer.Option(200, min=0, max=1000, help="items listed (the counts cover everything)"),
) -> None:
    """List what is stuck in a province, grouped by unit and stage; exit 1 when anything is stuck."""
    out = run(
        lambda session, client, principal: service.board(
            session,
            client,
            principal,
            province=province,
            min_attempts=min_attempts,
            failing=failing,
            limit=limit,
            now=datetime.now(UTC),
        ),
        province=province,
    )
    totals = Table(title=T("stuck_title", province=glossary.province_name(province)))
    for reason in out.totals:
        totals.add_column(T.term("stuck", reason), justify="right")
    totals.add_row(*(str(n) for n in out.totals.values()))
    console.print(totals)
    headers = ("reason", "unit", "stage", "due", "days_in_stage", "case_id", "note")
    items = Table(*(T(h) for h in headers), show_lines=False)
    for i in out.items:
        place = task_cells(i.unit_name, i.unit_code, i.stage, i.due_at)
        days = f"{(i.seconds_in_stage or 0) / 86400:.1f}".replace(".", ",")
        items.add_row(T.term("stuck", i.reason), *place, days, i.case_id, i.detail or "")
    if out.items:
        console.print(items)
    raise typer.Exit(1 if any(out.totals.values()) else 0)
