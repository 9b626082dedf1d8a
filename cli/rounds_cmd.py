"""`xptt round`: open an assessment round for a province (one case per unit)."""

from __future__ import annotations

import asyncio

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import func, select

from cli.common import console, fail, settings_with_database
from db.models import UnitRow
from db.session import make_engine, make_session_factory
from domain.errors import DomainError
from infra.temporal import connect
from services.rounds import open_round

app = typer.Typer(help="Assessment rounds: open a round for a province.", no_args_is_help=True)


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
    console.print(f"round [bold]{round_id}[/]: {n} cases open in province {province}")
