"""`xptt round`: open an assessment round for a province (one case per unit), follow its progress, print its
report (or write its workbook), write the draft recognition decision (DOCX, PDF) or its annex's unit list (XLSX),
show where its time goes (cli/stage_times_cmd.py). Its tables speak Vietnamese; its errors name the option or field
at fault."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

import glossary
from cli.common import console, database, fail, settings_with_database
from cli.ops import EXIT_USAGE, run
from cli.stage_times_cmd import stage_times_cmd
from domain.errors import DomainError
from domain.stages import Stage
from infra.clock import today_vn
from infra.settings import Settings
from infra.temporal import connect
from services.errors import Refusal
from services.rounds import documents, queries, service
from services.rounds.opening import open_round
from services.rounds.report import report_csv
from services.rounds.report_xlsx import report_xlsx, target_text
from services.rounds.schemas import ReportOut, parse_day
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
    format: str = typer.Option("table", "--format", help="table, csv, json or xlsx (the workbook: needs --out)"),
    out_file: Path | None = typer.Option(None, "--out", help="write to this file instead of the terminal"),
) -> None:
    """The round's report for the province: counts, share recognised, one row per unit."""
    if format not in ("table", "csv", "json", "xlsx"):
        fail("--format takes table, csv, json or xlsx", EXIT_USAGE)
    if format == "xlsx" and out_file is None:
        fail("--format xlsx writes a workbook: give the file with --out", EXIT_USAGE)
    if out_file is not None:
        if format == "table":
            fail("--out writes the report as csv, json or xlsx, not the table", EXIT_USAGE)
        _check_out(out_file)
    out = run(
        lambda session, _, principal: service.report(session, principal, round_id, province, now=datetime.now(UTC)),
        province=province,
    )
    if format != "table":
        content = _report_file(out, format)
        if out_file is None:
            sys.stdout.write(content.decode())
        else:
            _write(out_file, content, T("download_report_xlsx") if format == "xlsx" else format.upper())
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
    share = glossary.percent(out.recognised_share)
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


def _report_file(out: ReportOut, format: str) -> bytes:
    if format == "json":
        return (out.model_dump_json(indent=2) + "\n").encode()
    if format == "csv":
        return report_csv(out).encode()
    return report_xlsx(out)


@app.command("decision")
def decision_cmd(
    round_id: str = ROUND,
    province: str = PROVINCE,
    format: str = typer.Option("docx", "--format", help="docx, pdf, or xlsx (the annex's unit list)"),
    out_file: Path = typer.Option(..., "--out", help="the file to write"),
) -> None:
    """Write the draft recognition decision of the round in the province (Decree 30/2020/NĐ-CP's layout; number,
    dates and signer left blank), with its annex listing the units recognised; or the annex's list as a workbook.
    Refused while no unit is recognised."""
    fmt = next((f for f in documents.FORMATS if f == format), None)
    if fmt is None:
        fail("--format takes docx, pdf or xlsx", EXIT_USAGE)
    _check_out(out_file)
    font_dir = settings_with_database().pdf_font_dir
    made = run(
        lambda session, _, principal: documents.decision(
            session,
            principal,
            round_id,
            province,
            fmt=fmt,
            now=datetime.now(UTC),
            today=today_vn(),
            font_dir=font_dir,
        ),
        province=province,
    )
    what = T("download_unit_list") if format == "xlsx" else T(f"download_decision_{format}")
    _write(out_file, made.content, what)


def _check_out(path: Path) -> None:
    """--out names a file in a directory that exists; the command ends naming the option otherwise."""
    if path.is_dir() or not path.parent.is_dir():
        fail(escape(f"--out: {path} is not a file in an existing directory"), EXIT_USAGE)


def _write(path: Path, content: bytes, what: str) -> None:
    try:
        path.write_bytes(content)
    except OSError as exc:
        fail(escape(f"--out: cannot write {path}: {exc.strerror}"), EXIT_USAGE)
    console.print(T("file_written", path=escape(str(path)), what=what), highlight=False)


app.command("stage-times")(stage_times_cmd)
