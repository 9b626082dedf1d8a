"""`xptt audit`: verify a case's journal, archive and replay its history, export and check an offline bundle,
export a round's journal as an event log.

Exit codes: 0 the check holds, 1 it does not (the output names the case and the row), 2 the command could not run,
3 what it names was not found (export-log's round or province).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

import glossary
from audit.bundle import verify_bundle
from audit.eventlog.service import ExportSummary, export_log, file_name
from audit.service import AuditError, ReplayReport, archive_case, export_case, replay_case, verify_all, verify_case
from audit.verify import CaseVerification
from cli.common import T as T_CLI
from cli.common import console, database, err_console, fail, settings_with_database
from cli.ops import EXIT_NOT_FOUND, EXIT_USAGE
from db.models import AuditEventRow
from infra.settings import Settings
from infra.temporal import connect
from services.errors import Refusal

app = typer.Typer(
    help="Audit: verify the hash-chained journal, archive and replay histories, export offline bundles.",
    no_args_is_help=True,
)

T = TypeVar("T")


def _run(settings: Settings, work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    async def main() -> T:
        async with database(settings) as sessions:
            return await work(sessions)

    try:
        return asyncio.run(main())
    except AuditError as exc:
        fail(exc.message, 2)


def _print_verification(result: CaseVerification) -> None:
    if result.ok:
        console.print(f"[green]✓[/] {result.summary()}", highlight=False)
    else:
        err_console.print(f"[bold red]✗[/] {result.summary()}", highlight=False)
        for problem in result.problems[1:]:
            err_console.print(f"    also seq {problem.seq} ({problem.kind}): {problem.detail}", highlight=False)


@app.command("verify")
def verify_cmd(
    case_id: Annotated[str | None, typer.Argument(help="case id, e.g. qd06-2019:2027-11953")] = None,
    all_cases: Annotated[bool, typer.Option("--all", help="every case: chain and anchors, in one pass")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Check a case's journal (or every case's): the hash chain, the anchors and the archived histories."""
    if (case_id is None) == (not all_cases):
        fail("name one case, or say --all", 2)
    s = settings_with_database()
    if case_id is not None:
        result = _run(s, lambda sessions: verify_case(sessions, case_id))
        if as_json:
            console.print_json(result.model_dump_json())
        else:
            _print_verification(result)
        raise typer.Exit(0 if result.ok else 1)

    async def everything(sessions: async_sessionmaker[AsyncSession]) -> list[CaseVerification]:
        async with sessions() as session:
            total = await session.scalar(select(func.count()).select_from(AuditEventRow)) or 0
        with Progress(
            TextColumn("verifying rows"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(), console=err_console, disable=as_json,
        ) as bar:  # fmt: skip
            task = bar.add_task("rows", total=total)
            return await verify_all(sessions, progress=lambda n: bar.advance(task, n))

    started = datetime.now(UTC)
    results = _run(s, everything)
    seconds = (datetime.now(UTC) - started).total_seconds()
    broken = [r for r in results if not r.ok]
    rows = sum(r.rows for r in results)
    if as_json:
        listed = [r.model_dump(mode="json") for r in broken]
        console.print_json(json.dumps({"cases": len(results), "rows": rows, "seconds": seconds, "broken": listed}))
    else:
        for result in broken:
            _print_verification(result)
        mark = "[green]✓[/]" if not broken else "[bold red]✗[/]"
        console.print(
            f"{mark} {len(results)} cases, {rows} rows verified in {seconds:.1f} s: "
            + ("every chain holds" if not broken else f"{len(broken)} broken"),
            highlight=False,
        )
    raise typer.Exit(0 if not broken else 1)


def _with_temporal(
    s: Settings, work: Callable[[async_sessionmaker[AsyncSession], Client], Awaitable[T]]
) -> Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]:
    async def inner(sessions: async_sessionmaker[AsyncSession]) -> T:
        try:
            client = await connect(s)
        except RuntimeError as exc:
            fail(f"cannot reach Temporal at {s.temporal_address}: {exc}", 2)
        return await work(sessions, client)

    return inner


@app.command("archive")
def archive_cmd(case_id: Annotated[str, typer.Argument(help="case id")]) -> None:
    """Store the case's history from Temporal now (the complete one once the case is closed)."""
    s = settings_with_database()
    result = _run(s, _with_temporal(s, lambda sessions, client: archive_case(sessions, client, case_id)))
    state = "complete" if result.complete else "so far (the case has not closed)"
    verb = "archived" if result.replaced else "already archived"
    console.print(
        f"case {case_id}: history of run {result.run_id} {verb}, {result.event_count} events {state}, "
        f"sha256 {result.sha256}",
        highlight=False,
    )


def print_replay(report: ReplayReport) -> None:
    table = Table(title=f"case {report.case_id}: decisions under {report.rule_set_id}", title_justify="left")
    for column in ("seq", "when (UTC)", "who", "role", "what", "verdict recomputed"):
        table.add_column(column)
    for d in report.decisions:
        verdict = ""
        if d.verdict is not None:
            verdict = ("[green]matches[/]: " if d.verdict.matches else "[bold red]DIFFERS[/]: ") + d.verdict.detail
        what = d.action + (f" → {d.to_stage}" if d.to_stage else "") + (f" ({d.reason})" if d.reason else "")
        table.add_row(str(d.seq), d.occurred_at[:19], d.actor_id or "(workflow)", d.actor_role or "", what, verdict)
    console.print(table)
    console.print(
        f"history: {report.source}, run {report.run_id}, {report.event_count} events"
        f"{'' if report.history_complete else ' (up to the archive step)'}, sha256 {report.history_sha256}",
        highlight=False,
    )
    mark = "[green]✓[/]" if report.matches else "[bold red]✗[/]"
    console.print(f"{mark} {report.summary}", highlight=False)


@app.command("replay")
def replay_cmd(
    case_id: Annotated[str, typer.Argument(help="case id")],
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Replay the archived (else live) history on this build's workflow code and recompute every verdict."""
    s = settings_with_database()
    report = _run(s, _with_temporal(s, lambda sessions, client: replay_case(sessions, client, case_id)))
    if as_json:
        console.print_json(report.model_dump_json())
    else:
        print_replay(report)
    raise typer.Exit(0 if report.matches else 1)


@app.command("export")
def export_cmd(
    case_id: Annotated[str, typer.Argument(help="case id")],
    out: Annotated[Path, typer.Option("--out", help="file to write the bundle to")],
    replay: Annotated[bool, typer.Option(help="replay the archived history and record the result")] = True,
) -> None:
    """Write the case's self-contained bundle (journal, histories, recomputation, hashes) for offline checking."""
    s = settings_with_database()
    raw, digest = _run(s, lambda sessions: export_case(sessions, case_id, now=datetime.now(UTC), replay=replay))
    out.write_bytes(raw)
    console.print(f"case {case_id}: {len(raw)} bytes written to {out}; bundle sha256 {digest}", highlight=False)


@app.command("verify-bundle")
def verify_bundle_cmd(
    file: Annotated[Path, typer.Argument(help="a bundle written by `xptt audit export`", exists=True, dir_okay=False)],
    replay: Annotated[bool, typer.Option(help="also replay its histories on this build's workflow code")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Check a bundle offline (no database, no Temporal): bytes, hashes, chain, histories and verdicts."""
    raw = file.read_bytes()
    report = verify_bundle(raw)
    replays: list[dict[str, Any]] = []
    if replay and report.case_id is not None:
        from audit.replay import replay_history

        body = json.loads(raw)
        for h in body.get("histories", []):
            outcome = asyncio.run(replay_history(h["workflow_id"], h["history"]))
            replays.append({"run_id": h["run_id"], "ok": outcome.ok, "failure": outcome.failure})
    ok = report.ok and all(r["ok"] for r in replays)
    if as_json:
        console.print_json(json.dumps({**report.model_dump(mode="json"), "replays": replays, "ok": ok}))
    else:
        for check in report.checks:
            console.print(f"[green]✓[/] {check}", highlight=False)
        for r in replays:
            mark = "[green]✓[/]" if r["ok"] else "[bold red]✗[/]"
            console.print(f"{mark} replay of run {r['run_id']}: {'matches' if r['ok'] else r['failure']}")
        for problem in report.problems:
            err_console.print(f"[bold red]✗[/] {problem}", highlight=False)
        verdict = "verifies" if ok else "DOES NOT verify"
        console.print(f"bundle {file} (case {report.case_id}) {verdict}", highlight=False)
    raise typer.Exit(0 if ok else 1)


@app.command("export-log")
def export_log_cmd(
    fmt: Annotated[str, typer.Option("--format", help="ocel (OCEL 2.0 JSON), ocel-sqlite (OCEL 2.0 SQLite) or xes")],
    round_id: Annotated[str, typer.Option("--round", help="round id, e.g. qd06-2019:2027")],
    province: Annotated[str | None, typer.Option("--province", help="only this province's cases (its code)")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="file to write (default: named after the round)")] = None,
    with_names: Annotated[bool, typer.Option("--with-names", help="add officials' full names (personal data)")] = False,
) -> None:
    """Write a round's journal as an event log for process mining (docs/event-log.md); officials by id only unless
    --with-names. Nothing written on a refusal: exit 2 on an unknown format or an --out that cannot be written,
    exit 3 on an unknown round or province."""
    s = settings_with_database()
    target = out or Path(file_name(fmt, round_id, province))
    if target.is_dir():
        fail(glossary.term("event_log", "out_is_directory", path=escape(str(target))), EXIT_USAGE)
    if not target.parent.is_dir():
        fail(glossary.term("refusal", "output_dir_missing"), EXIT_USAGE)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> ExportSummary:
        with Progress(
            TextColumn(glossary.term("event_log", "exporting")), BarColumn(),
            TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(), console=err_console, transient=True,
        ) as bar:  # fmt: skip
            task = bar.add_task("rows", total=None)
            provinces = [province] if province is not None else None
            return await export_log(
                sessions, fmt, round_id, target, provinces=provinces, with_names=with_names,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )  # fmt: skip

    try:
        summary = _run(s, work)
    except Refusal as exc:
        given = {"format": fmt, "round": round_id, "province": province}.get(str(exc.extra.get("field")))
        said = f"{glossary.term('refusal', exc.code)} (--{exc.extra.get('field')}: {given})"
        fail(escape(said), EXIT_NOT_FOUND if exc.status == 404 else EXIT_USAGE)
    except OSError as exc:
        if exc.filename is None:  # not the file: PostgreSQL out of reach
            fail(escape(T_CLI("cli_unreachable", what="PostgreSQL", detail=exc)), EXIT_USAGE)
        fail(glossary.term("event_log", "not_written", path=escape(str(target))), EXIT_USAGE)
    if summary.format == "xes":
        said = glossary.term(
            "event_log", "written_xes", events=summary.events.total(), traces=summary.traces, path=target,
            size=summary.bytes,
        )  # fmt: skip
    else:
        said = glossary.term(
            "event_log", "written_ocel", events=summary.events.total(), objects=summary.objects.total(), path=target,
            size=summary.bytes,
        )  # fmt: skip
    console.print(said, highlight=False)
