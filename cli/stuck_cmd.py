"""`xptt stuck`: what is stuck in a province — the board's own query (overdue, escalated, held, failed notices,
failing activities)."""

from __future__ import annotations

import typer
from rich.table import Table

from api.routes.board import BoardOut
from api.routes.board import board as board_route
from cli.common import console
from cli.ops import operator, run


def stuck(
    province: str = typer.Option(..., help="two-digit province code, e.g. 33"),
    min_attempts: int = typer.Option(3, min=2, help="an activity counts as failing from this attempt"),
    failing: bool = typer.Option(True, help="also ask Temporal for cases whose activities keep failing"),
    limit: int = typer.Option(200, min=0, max=1000, help="items listed (the counts cover everything)"),
) -> None:
    """List what is stuck in a province, grouped by unit and stage; exit 1 when anything is stuck."""

    async def work(session, client, _):  # type: ignore[no-untyped-def]
        return await board_route(
            principal=operator(province),
            session=session,
            temporal=client,
            province=province,
            min_attempts=min_attempts,
            failing=failing,
            limit=limit,
        )

    out: BoardOut = run(work)
    totals = Table(title=f"Stuck in province {province}")
    for reason in out.totals:
        totals.add_column(reason, justify="right")
    totals.add_row(*(str(n) for n in out.totals.values()))
    console.print(totals)
    items = Table(show_lines=False)
    for col in ("reason", "unit", "stage", "due", "days in stage", "case", "detail"):
        items.add_column(col)
    for i in out.items:
        items.add_row(
            i.reason,
            f"{i.unit_name} ({i.unit_code})",
            i.stage,
            i.due_at.strftime("%Y-%m-%d %H:%M") if i.due_at else "",
            f"{(i.seconds_in_stage or 0) / 86400:.1f}",
            i.case_id,
            i.detail or "",
        )
    if out.items:
        console.print(items)
    raise typer.Exit(1 if any(out.totals.values()) else 0)
