"""`xptt history`: a province's past rounds — import its file of recognitions before this system (a dry run unless
--apply), list what it holds. In process, over the database only: the import acts as the administrator named with
--as, else as the operator over the province (journalled as `cli-operator`).

Exit codes: 0 done; 1 rows refused with --apply (nothing written); 2 bad input or no database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import typer
from rich.table import Table

import glossary
from cli.common import console, fail
from cli.officials_cmd import in_process
from cli.ops import EXIT_PARTIAL
from services.history import service
from services.history.schemas import ImportReport, RowOutcome
from web.i18n import TEXT, Translator

app = typer.Typer(help="A province's past rounds: recognitions before this system, and their import.")
T = Translator("vi")  # what people read is Vietnamese (glossary)
PROVINCE = typer.Option(..., help="two-digit province code, e.g. 33")


def _day(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


def _note(o: RowOutcome) -> str:
    """Why a row is refused, in Vietnamese: the column as the header names it and the reason by its code."""
    if o.outcome == "refuse":
        column = T(f"hist_col_{o.field}") if f"hist_col_{o.field}" in TEXT else (o.field or "")
        reason = T(f"hist_{o.code}", value=o.value or "") if f"hist_{o.code}" in TEXT else (o.detail or "")
        return T("hist_refused_at", column=column, reason=reason)
    return T("dir_changes", fields=", ".join(o.changes)) if o.changes else ""


def _report(report: ImportReport) -> None:
    state = "dir_dry_run" if not report.apply else "hist_applied" if report.applied else "dir_not_applied"
    title = T("hist_import_title", province=glossary.province_name(report.province))
    rows = Table(title=f"{title} — {T(state)}")
    for header in ("hist_row", "hist_unit", "hist_district", "hist_year", "hist_decision", "hist_outcome", "hist_note"):
        rows.add_column(T(header), justify="right" if header in ("hist_row", "hist_year") else "left")
    for o in report.outcomes:
        decision = (
            T("hist_decision_text", number=o.decision_number, day=_day(o.decision_date)) if o.decision_date else ""
        )
        rows.add_row(
            str(o.row),
            o.unit_name or o.unit_code or "",
            o.district_name or "",
            o.year or "",
            decision,
            T(f"dir_{o.outcome}"),
            _note(o),
            style="red" if o.outcome == "refuse" else None,
        )
    console.print(rows)
    summary = Table()
    for header in ("dir_rows", "dir_create", "dir_change", "dir_unchanged", "dir_refuse"):
        summary.add_column(T(header), justify="right")
    counts = (report.rows, report.created, report.changed, report.unchanged, report.refused)
    summary.add_row(*(str(n) for n in counts))
    console.print(summary)
    if report.applied:
        console.print(T("dir_journal_rows", n=report.journal_rows), highlight=False)


@app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="the file: .csv or .xlsx"),
    province: str = PROVINCE,
    as_: str | None = typer.Option(None, "--as", help="the administrator importing (default: the operator)"),
    apply: bool = typer.Option(False, "--apply", help="write it (without it: a dry run that writes nothing)"),
) -> None:
    """Import recognitions of past rounds, one row per unit and round (docs/history.md). With --apply every row is
    written in one transaction, or nothing when any row is refused (exit 1); importing it again changes nothing."""
    data = file.read_bytes()
    report = in_process(
        lambda session, principal: service.import_past_rounds(
            session, principal, province, data, apply=apply, now=datetime.now(UTC), file_name=file.name
        ),
        province=province,
        official=as_,
    )
    _report(report)
    if report.refused and apply:
        fail(T("dir_not_applied"), EXIT_PARTIAL)


@app.command("list")
def list_cmd(
    province: str = PROVINCE, year: int | None = typer.Option(None, "--year", help="one round's year")
) -> None:
    """The province's imported recognitions of past rounds, by year and unit."""
    rows = in_process(
        lambda session, principal: service.list_past_recognitions(session, principal, province, year=year),
        province=province,
    )
    table = Table(title=T("hist_list_title", province=glossary.province_name(province)))
    for header in ("hist_year", "hist_unit", "hist_district", "hist_decision"):
        table.add_column(T(header))
    for r in rows:
        decision = T("hist_decision_text", number=r.decision_number, day=_day(r.decision_date))
        table.add_row(str(r.year), r.unit_name, r.district_name or "", decision)
    console.print(table)
