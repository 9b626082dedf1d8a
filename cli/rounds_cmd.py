"""`xptt round`: open an assessment round for a province (one case per unit), follow its progress, print its
report."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cli.common import console, database, fail, settings_with_database
from cli.ops import EXIT_USAGE, run
from domain.calendar import local_date
from domain.errors import DomainError
from infra.temporal import connect
from services.errors import Refusal
from services.rounds import queries, service
from services.rounds.opening import open_round
from services.rounds.report import report_csv

app = typer.Typer(
    help="Assessment rounds: open one for a province, follow its progress, print its report.", no_args_is_help=True
)

ROUND = typer.Argument(..., help="round id, e.g. qd06-2019:2027")
PROVINCE = typer.Option(..., help="two-digit province code, e.g. 33")


@app.command("open")
def open_cmd(
    round_id: str = typer.Argument(..., help="round id '<rule set>:<assessment year>', e.g. qd06-2019:2027"),
    province: str = PROVINCE,
    concurrency: int = typer.Option(20, min=1, max=500, help="case starts in flight at once"),
) -> None:
    """Start one recognition case per unit of the province (idempotent: running it again starts nothing twice).
    Only a round that lies ahead opens: the current assessment of the rule set in force or one of the next
    XPTT_ROUNDS_OPEN_AHEAD (default 1)."""
    s = settings_with_database()
    try:
        service.live_round(round_id, today=local_date(datetime.now(UTC)), ahead=s.rounds_open_ahead)
    except Refusal as exc:
        fail(exc.detail, 2)

    async def opening() -> int:
        async with database(s) as sessions:
            async with sessions() as session:
                total = await queries.unit_count(session, province)
            if not total:
                fail(f"province {province} has no units seeded (xptt db seed-units --province {province})", 2)
            client = await connect(s)
            with Progress(
                TextColumn("opening {task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            ) as bar:
                task = bar.add_task(round_id, total=total)
                opened = await open_round(
                    client,
                    sessions,
                    round_id=round_id,
                    province_code=province,
                    task_queue=s.task_queue,
                    concurrency=concurrency,
                    progress=lambda n: bar.advance(task, n),
                )
            return len(opened.cases)

    try:
        n = asyncio.run(opening())
    except DomainError as exc:
        fail(str(exc), 2)
    summary = Table(title=f"Round {round_id} opened")
    for col in ("province", "units", "cases open"):
        summary.add_column(col, justify="right")
    summary.add_row(province, str(n), str(n))
    console.print(summary)


@app.command("progress")
def progress_cmd(round_id: str = ROUND, province: str = PROVINCE) -> None:
    """Where the round's cases stand in the province: by stage and outcome, overdue, escalated, on hold."""
    out = run(
        lambda session, client, principal: service.progress(
            session, client, principal, round_id, province, now=datetime.now(UTC)
        ),
        province=province,
    )
    table = Table(title=f"Round {round_id}, province {province}: {out.cases} cases of {out.units} units")
    table.add_column("stage")
    table.add_column("cases", justify="right")
    for stage, n in out.by_stage.items():
        table.add_row(stage, str(n))
    for outcome, n in out.by_outcome.items():
        table.add_row(f"outcome: {outcome}", str(n))
    for label, n in (
        ("open", out.open),
        ("closed", out.closed),
        ("overdue", out.overdue),
        ("escalated", out.escalated),
        ("on hold", out.on_hold),
    ):
        table.add_row(label, str(n))
    console.print(table)


@app.command("report")
def report_cmd(
    round_id: str = ROUND,
    province: str = PROVINCE,
    format: str = typer.Option("table", "--format", help="table, csv or json"),
) -> None:
    """The round's report for the province: counts, share recognised, one row per unit."""
    if format not in ("table", "csv", "json"):
        fail("--format takes table, csv or json", EXIT_USAGE)
    out = run(
        lambda session, _, principal: service.report(session, principal, round_id, province, now=datetime.now(UTC)),
        province=province,
    )
    if format == "json":
        sys.stdout.write(out.model_dump_json(indent=2) + "\n")
        return
    if format == "csv":
        sys.stdout.write(report_csv(out))
        return
    summary = Table(title=f"Round {round_id}, province {province}" + (" (final)" if out.final else " (open)"))
    for col in ("units", "registered", "assessed", "submitted", "recognised", "not recognised", "share %"):
        summary.add_column(col, justify="right")
    share = f"{out.recognised_share:.1f}" if out.recognised_share is not None else "—"
    summary.add_row(
        *(str(n) for n in (out.units, out.registered, out.assessed, out.submitted, out.recognised, out.not_recognised)),
        share,
    )
    console.print(summary)
