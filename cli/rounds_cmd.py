"""`xptt round`: open an assessment round for a province (one case per unit), follow its progress, print its
report. Its tables speak Vietnamese; its errors name the option or field at fault."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, date, datetime

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

import glossary
from cli.common import console, database, fail, settings_with_database
from cli.ops import EXIT_USAGE, run
from domain.errors import DomainError
from domain.stages import Stage
from infra.clock import today_vn
from infra.settings import Settings
from infra.temporal import connect
from services.errors import Refusal
from services.rounds import queries, service
from services.rounds.opening import open_round
from services.rounds.report import report_csv
from services.rounds.report_xlsx import target_text
from services.rounds.schemas import parse_day
from web.i18n import Translator

app = typer.Typer(
    help="Assessment rounds: open one for a province, follow its progress, print its report.", no_args_is_help=True
)

ROUND = typer.Argument(..., help="round id, e.g. qd06-2019:2027")
PROVINCE = typer.Option(..., help="two-digit province code, e.g. 33")
T = Translator("vi")  # the tables speak Vietnamese (web/i18n.py)


@app.command("open")
def open_cmd(
    round_id: str = typer.Argument(..., help="round id '<rule set>:<assessment year>', e.g. qd06-2019:2027"),
    province: str = PROVINCE,
    concurrency: int = typer.Option(20, min=1, max=500, help="case starts in flight at once"),
    rehearsal_opens_on: str | None = typer.Option(
        None,
        "--rehearsal-opens-on",
        help="a rehearsal: move the round's calendar so that self-assessment opens this day (YYYY-MM-DD, within a "
        "year of today)",
    ),
) -> None:
    """Start one recognition case per unit of the province (idempotent: running it again starts nothing twice).
    Only a round that lies ahead opens: the current assessment of the rule set in force or one of the next
    XPTT_ROUNDS_OPEN_AHEAD (default 1)."""
    s = settings_with_database()
    today = today_vn()
    try:
        service.live_round(round_id, today=today, ahead=s.rounds_open_ahead)
    except Refusal as exc:
        fail(exc.detail, EXIT_USAGE)
    rehearsal = _rehearsal_day(rehearsal_opens_on, today=today)
    try:
        n = asyncio.run(_open(s, round_id, province, concurrency=concurrency, rehearsal_opens_on=rehearsal))
    except DomainError as exc:
        fail(str(exc), EXIT_USAGE)
    summary = Table(title=T("round_opened", round_name=glossary.round_label(round_id)))
    for col in (T("province"), T("units"), T("round_cases_opened")):
        summary.add_column(col, justify="right")
    summary.add_row(province, str(n), str(n))
    console.print(summary)


def _rehearsal_day(value: str | None, *, today: date) -> date | None:
    """The day of --rehearsal-opens-on, or the command ends naming the option and the reason (nothing opened)."""
    if value is None:
        return None
    try:
        day = parse_day(value)
        service.check_rehearsal(day, today=today)
    except ValueError as exc:
        fail(escape(f"--rehearsal-opens-on: {exc}"), EXIT_USAGE)
    return day


async def _open(s: Settings, round_id: str, province: str, *, concurrency: int, rehearsal_opens_on: date | None) -> int:
    """Open the round with a progress bar; the number of cases it started."""
    async with database(s) as sessions:
        async with sessions() as session:
            total = await queries.unit_count(session, province)
        if not total:
            fail(f"province {province} has no units seeded (xptt db seed-units --province {province})", EXIT_USAGE)
        client = await connect(s)
        with Progress(
            TextColumn(T("round_opening") + " {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            task = bar.add_task(glossary.round_label(round_id), total=total)
            opened = await open_round(
                client,
                sessions,
                round_id=round_id,
                province_code=province,
                task_queue=s.task_queue,
                concurrency=concurrency,
                progress=lambda n: bar.advance(task, n),
                rehearsal_opens_on=rehearsal_opens_on,
            )
        return len(opened.cases)


@app.command("progress")
def progress_cmd(round_id: str = ROUND, province: str = PROVINCE) -> None:
    """Where the round's cases stand in the province: by stage and outcome, open, closed, overdue, escalated, on
    hold, striving (registered, waiting for self-assessment) and waiting for registration to open."""
    out = run(
        lambda session, client, principal: service.progress(
            session, client, principal, round_id, province, now=datetime.now(UTC)
        ),
        province=province,
    )
    title = T(
        "round_progress_title",
        round_name=glossary.round_label(round_id),
        province=glossary.province_name(province),
        cases=out.cases,
        units=out.units,
    )
    table = Table(title=title, min_width=len(title))
    table.add_column(T("stage"))
    table.add_column(T("cases"), justify="right")
    for stage in (s.value for s in Stage):  # in the procedure's order
        if stage in out.by_stage:
            table.add_row(T.stage(stage), str(out.by_stage[stage]))
    table.add_section()
    for outcome, n in out.by_outcome.items():
        table.add_row(T("round_outcome", outcome=T(f"round_outcome_{outcome}")), str(n))
    if out.by_outcome:
        table.add_section()
    for label, n in (
        ("open", out.open),
        ("closed", out.closed),
        ("overdue", out.overdue),
        ("escalated", out.escalated),
        ("on_hold", out.on_hold),
        ("line_striving", out.striving),
        ("line_awaiting_registration", out.waiting_registration),
    ):
        table.add_row(T(label), str(n))
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
    state = T("round_final") if out.final else T("round_ongoing")
    summary = Table(
        title=T(
            "round_report_title",
            round_name=glossary.round_label(round_id),
            province=glossary.province_name(province),
            state=state,
        )
    )
    for col in (
        "units",
        "round_registered",
        "round_assessed",
        "round_submitted",
        "round_outcome_recognised",
        "round_outcome_not_recognised",
        "round_share_percent",
    ):
        summary.add_column(T(col), justify="right")
    share = f"{out.recognised_share:.1f}" if out.recognised_share is not None else "—"
    summary.add_row(
        *(str(n) for n in (out.units, out.registered, out.assessed, out.submitted, out.recognised, out.not_recognised)),
        share,
    )
    console.print(summary)
    console.print(f"{T('target')}: {target_text(T, out)}", highlight=False)
    if out.zero_by_criterion:
        zeros = Table(T("criterion_no"), T("criterion"), T("units_with_zero"), title=T("zeros_title"))
        for z in out.zero_by_criterion:
            zeros.add_row(str(z.criterion), z.name, str(z.units))
        console.print(zeros)
