"""`xptt round`: open an assessment round for a province (one case per unit)."""

from __future__ import annotations

import asyncio

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import func, select

from cli.common import console, fail, settings_with_database
from db.models import UnitRow
from db.session import make_engine, make_session_factory
from domain.errors import DomainError
from infra.temporal import connect
from services.rounds import open_round

app = typer.Typer(
    help="Assessment rounds: open one for a province, follow its progress, print its report.", no_args_is_help=True
)


@app.command("open")
def open_cmd(
    round_id: str = typer.Argument(..., help="round id '<rule set>:<assessment year>', e.g. qd06-2019:2027"),
    province: str = typer.Option(..., help="two-digit province code, e.g. 33"),
    concurrency: int = typer.Option(20, min=1, max=500, help="case starts in flight at once"),
) -> None:
    """Start one recognition case per unit of the province (idempotent: running it again starts nothing twice)."""
    s = settings_with_database()

    async def run() -> int:
        engine = make_engine(s.database_url, pool_size=2)
        sessions = make_session_factory(engine)
        try:
            async with sessions() as session:
                total = await session.scalar(
                    select(func.count()).select_from(UnitRow).where(UnitRow.province_code == province)
                )
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
        finally:
            await engine.dispose()

    try:
        n = asyncio.run(run())
    except DomainError as exc:
        fail(str(exc), 2)
    summary = Table(title=f"Round {round_id} opened")
    for col in ("province", "units", "cases open"):
        summary.add_column(col, justify="right")
    summary.add_row(province, str(n), str(n))
    console.print(summary)


@app.command("progress")
def progress_cmd(
    round_id: str = typer.Argument(..., help="round id, e.g. qd06-2019:2027"),
    province: str = typer.Option(..., help="two-digit province code, e.g. 33"),
) -> None:
    """Where the round's cases stand in the province: by stage and outcome, overdue, escalated, on hold."""
    from api.routes.rounds import progress as progress_route
    from cli.ops import operator, run

    async def work(session, client, _):  # type: ignore[no-untyped-def]
        return await progress_route(
            round_id=round_id, principal=operator(province), session=session, temporal=client, province=province
        )

    out = run(work)
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
    round_id: str = typer.Argument(..., help="round id, e.g. qd06-2019:2027"),
    province: str = typer.Option(..., help="two-digit province code, e.g. 33"),
    format: str = typer.Option("table", "--format", help="table, csv or json"),
) -> None:
    """The round's report for the province: counts, share recognised, one row per unit."""
    import csv
    import sys

    from api.round_reports import CSV_COLUMNS, ReportOut
    from api.routes.rounds import report as report_route
    from cli.ops import EXIT_USAGE, operator, run

    if format not in ("table", "csv", "json"):
        fail("--format takes table, csv or json", EXIT_USAGE)

    async def work(session, client, _):  # type: ignore[no-untyped-def]
        return await report_route(
            round_id=round_id, principal=operator(province), session=session, province=province, format="json"
        )

    out = run(work)
    assert isinstance(out, ReportOut)
    if format == "json":
        sys.stdout.write(out.model_dump_json(indent=2) + "\n")
        return
    if format == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for r in out.results:
            writer.writerow(r.model_dump())
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
