"""`xptt stuck`: what is stuck in a province — the board (overdue, escalated, held, failed notices, failing
activities)."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.table import Table

from cli.common import console, task_cells
from cli.ops import run
from services.board import service


def stuck(
    province: str = typer.Option(..., help="two-digit province code, e.g. 33"),
    min_attempts: int = typer.Option(3, min=2, help="an activity counts as failing from this attempt"),
    failing: bool = typer.Option(True, help="also ask Temporal for cases whose activities keep failing"),
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
    totals = Table(title=f"Stuck in province {province}")
    for reason in out.totals:
        totals.add_column(reason, justify="right")
    totals.add_row(*(str(n) for n in out.totals.values()))
    console.print(totals)
    items = Table("reason", "unit", "stage", "due", "days in stage", "case", "detail", show_lines=False)
    for i in out.items:
        place = task_cells(i.unit_name, i.unit_code, i.stage, i.due_at)
        items.add_row(i.reason, *place, f"{(i.seconds_in_stage or 0) / 86400:.1f}", i.case_id, i.detail or "")
    if out.items:
        console.print(items)
    raise typer.Exit(1 if any(out.totals.values()) else 0)
