"""`xptt officials`: the officials' directory of a province — import its spreadsheet (a dry run unless --apply),
list its officials, check who holds the roles the procedure needs (coverage), verify its journal. In process, over
the database only (no Temporal): the import acts as the administrator named with --as; list, coverage and verify
read as the operator over the province.

Exit codes: 0 done; 1 rows refused with --apply (nothing written), a broken journal, or a needed role no one holds
(coverage); 2 bad input or no database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TypeVar

import typer
from pydantic import ValidationError
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

import glossary
from cli import ops
from cli.common import console, database, fail, invalid_text, refusal_text, settings_with_database
from cli.ops import EXIT_NOT_FOUND, EXIT_PARTIAL, EXIT_USAGE, operator
from services.access import Principal, principal_of
from services.errors import Refusal
from services.officials import absences, coverage, importer, service
from services.officials.absences import AbsenceOut, AbsenceRequest, EndAbsenceRequest
from services.officials.rules import role_label
from services.officials.schemas import AssignmentOut, ImportReport, RowOutcome
from web.i18n import TEXT, Translator

app = typer.Typer(
    help="The officials' directory of a province: import its spreadsheet, list its officials, verify its journal.",
    no_args_is_help=True,
)
T = Translator("vi")  # what people read is Vietnamese (web/i18n.py)
PROVINCE = typer.Option(..., help="two-digit province code, e.g. 33")
R = TypeVar("R")


def in_process(
    work: Callable[[AsyncSession, Principal], Awaitable[R]],
    *,
    province: str | None,
    official: str | None = None,
    ministry: bool = False,
) -> R:
    """`work(session, principal)`: the active official `official`, else the operator over `province` (as the
    ministry too with `ministry`)."""
    s = settings_with_database()

    async def main() -> R:
        async with database(s) as sessions, sessions() as session:
            principal = (
                operator(province, ministry=ministry) if official is None else await principal_of(session, official)
            )
            if principal is None:
                fail(T("cli_official_inactive", official=official), EXIT_USAGE)
            return await work(session, principal)

    try:
        return asyncio.run(main())
    except Refusal as exc:
        fail(refusal_text(exc), EXIT_NOT_FOUND if exc.status == 404 else EXIT_USAGE)
    except OSError as exc:
        fail(T("cli_unreachable", what="PostgreSQL", detail=exc), EXIT_USAGE)


def _day(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


def _note(o: RowOutcome) -> str:
    if o.outcome == "refuse":
        key = f"dir_{o.code}"
        return T(key, field=o.field or "", value=o.value or "") if key in TEXT else (o.detail or "")
    return T("dir_changes", fields=", ".join(o.changes)) if o.changes else ""


def _report(report: ImportReport) -> None:
    state = "dir_dry_run" if not report.apply else "dir_applied" if report.applied else "dir_not_applied"
    rows = Table(title=f"{T('dir_import_title', province=glossary.province_name(report.province))} — {T(state)}")
    for header in ("dir_row", "dir_official_id", "dir_full_name", "dir_role", "unit", "dir_outcome", "note"):
        rows.add_column(T(header), justify="right" if header == "dir_row" else "left")
    for o in report.outcomes:
        role = role_label(o.role) if o.role else ""
        style = "red" if o.outcome == "refuse" else None
        rows.add_row(
            str(o.row),
            o.official_id or "",
            o.full_name or "",
            role,
            o.unit_code or "",
            T(f"dir_{o.outcome}"),
            _note(o),
            style=style,
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
    if report.rows and report.unchanged == report.rows:
        console.print(T("dir_nothing_changes"), highlight=False)


@app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="the spreadsheet: .csv or .xlsx"),
    province: str = PROVINCE,
    as_: str = typer.Option(..., "--as", help="the administrator importing (admin role in the province)"),
    apply: bool = typer.Option(False, "--apply", help="write it (without it: a dry run that writes nothing)"),
) -> None:
    """Import officials and their roles, one row per official and role (docs/officials.md). With --apply, every row
    is written in one transaction, or nothing when any row is refused (exit 1); importing it again changes nothing."""
    data = file.read_bytes()
    report = in_process(
        lambda session, principal: importer.import_officials(
            session, principal, province, data, apply=apply, now=datetime.now(UTC)
        ),
        province=province,
        official=as_,
    )
    _report(report)
    if apply and not report.applied:
        raise typer.Exit(EXIT_PARTIAL)


def _validity(a: AssignmentOut) -> str:
    parts = [T("dir_from", day=_day(a.valid_from))] if a.valid_from else []
    if a.valid_until:
        parts.append(T("dir_until", day=_day(a.valid_until)))
    return " ".join(parts)


@app.command("list")
def list_cmd(
    province: str = PROVINCE,
    inactive: bool = typer.Option(False, "--inactive", help="deactivated officials too"),
) -> None:
    """The province's officials with their roles there: one line per role."""
    officials = in_process(
        lambda session, principal: service.list_officials(
            session, principal, province, now=datetime.now(UTC), include_inactive=inactive
        ),
        province=province,
    )
    table = Table(title=T("dir_list_title", province=glossary.province_name(province)))
    for header in ("dir_official_id", "dir_full_name", "dir_position", "dir_email", "dir_phone", "dir_role", "unit"):
        table.add_column(T(header))
    table.add_column(T("dir_validity"))
    table.add_column(T("dir_status"))
    for o in officials:
        status = T("dir_active" if o.active else "dir_inactive")
        for i, a in enumerate(o.roles or [None]):
            person = (o.id, o.full_name, o.position_title or "", o.email or "", o.phone or "") if i == 0 else ("",) * 5
            where = "" if a is None else f"{a.unit_name} ({a.unit_code})" if a.unit_code else T("dir_whole_province")
            role = (a.role_name, where, _validity(a)) if a is not None else ("", "", "")
            table.add_row(*person, *role, status if i == 0 else "")
    console.print(table)


@app.command("verify")
def verify_cmd(province: str = PROVINCE) -> None:
    """Check the hash chain of the province's directory journal: exit 1 naming the first altered or missing row."""
    result = in_process(lambda session, principal: service.verify(session, principal, province), province=province)
    if result.first_problem is None:
        console.print(
            T("dir_chain_holds", province=glossary.province_name(province), rows=result.rows), highlight=False
        )
        return
    first = result.first_problem
    console.print(
        T(
            "dir_chain_broken",
            province=glossary.province_name(province),
            seq=first.seq,
            kind=T(f"dir_kind_{first.kind}"),
        )
    )
    console.print(first.detail, highlight=False)
    raise typer.Exit(EXIT_PARTIAL)


@app.command("coverage")
def coverage_cmd(province: str = PROVINCE) -> None:
    """Every unit × every role the procedure needs at its current stage, and who holds it today: the gaps as a
    table; exit 1 when a needed role has no active holder."""
    out = in_process(
        lambda session, principal: coverage.coverage(session, principal, province, now=datetime.now(UTC)),
        province=province,
    )
    gaps = out.gaps
    table = Table(title=T("cov_title", province=glossary.province_name(province), day=_day(out.day)))
    for header in ("unit", "stage", "dir_role"):
        table.add_column(T(header))
    for g in gaps:
        stage = T.stage(g.stage) if g.stage else T("cov_no_case")
        table.add_row(f"{g.unit_name} ({g.unit_code})", stage, g.role_name)
    if gaps:
        console.print(table)
    console.print(T("cov_count", units=out.units, gaps=len(gaps), needed=out.needed), highlight=False)
    if gaps:
        raise typer.Exit(EXIT_PARTIAL)


def _leave_line(a: AbsenceOut) -> str:
    return T(
        "leave_recorded",
        id=a.id,
        official=a.official_id,
        starts=_day(a.starts_on),
        ends=_day(a.ends_on),
        deputy=f"{a.deputy_name} ({a.deputy_id})",
    )


@app.command("leave")
def leave_cmd(
    official: str = typer.Argument(..., help="the official going on leave"),
    deputy: str = typer.Option(..., "--deputy", help="who stands in: holds the same roles over the same units"),
    starts_on: datetime = typer.Option(..., "--from", formats=["%Y-%m-%d", "%d/%m/%Y"], help="first day"),
    ends_on: datetime = typer.Option(..., "--until", formats=["%Y-%m-%d", "%d/%m/%Y"], help="last day, inclusive"),
    province: str = PROVINCE,
    as_: str = typer.Option(..., "--as", help="the administrator recording it (admin role in the province)"),
    reason: str | None = typer.Option(None, "--reason"),
) -> None:
    """Record a leave and its deputy: meanwhile the deputy gets the official's reminders and new tasks, and the
    official's open tasks go to the deputy (now when the leave has begun, else on its first morning)."""
    try:
        req = AbsenceRequest(
            province=province, deputy_id=deputy, starts_on=starts_on.date(), ends_on=ends_on.date(), reason=reason
        )
    except ValidationError as exc:
        fail(invalid_text(exc), EXIT_USAGE)
    out = ops.run(
        lambda session, client, principal: absences.record_absence(
            session, principal, official, req, now=datetime.now(UTC), temporal=client
        ),
        official=as_,
    )
    console.print(_leave_line(out), highlight=False)
    if out.in_force:
        console.print(T("leave_handed", done=len(out.reassigned), left=len(out.left_open)), highlight=False)
    for item in out.left_open:
        console.print(f"  {item.case_id} {item.task_id}: {item.code}", highlight=False)
    if out.left_open:
        raise typer.Exit(EXIT_PARTIAL)


@app.command("leave-end")
def leave_end_cmd(
    official: str = typer.Argument(..., help="the official back from leave"),
    absence_id: int = typer.Argument(..., min=1, help="the leave's number (#)"),
    ends_on: datetime | None = typer.Option(
        None, "--until", formats=["%Y-%m-%d", "%d/%m/%Y"], help="new last day (default yesterday)"
    ),
    as_: str = typer.Option(..., "--as", help="the administrator recording it"),
    reason: str | None = typer.Option(None, "--reason"),
) -> None:
    """End a leave early (its last day moves earlier), or cancel one that has not begun."""
    req = EndAbsenceRequest(ends_on=ends_on.date() if ends_on else None, reason=reason)
    out = in_process(
        lambda session, principal: absences.end_absence(
            session, principal, official, absence_id, req, now=datetime.now(UTC)
        ),
        province="00",
        official=as_,
    )
    key = "leave_cancelled" if out.cancelled else "leave_ended"
    console.print(T(key, id=out.id, ends=_day(out.ends_on)), highlight=False)
