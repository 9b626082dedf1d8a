"""`xptt reconcile`: compare PostgreSQL with what the case workflows recorded in Temporal (after a restore from a
backup, the database lacks every transition since), and with --apply record again what it lacks, through the
activities' own code, then compare again (docs/reconcile.md). In process, with the database's URL and Temporal's
address, as the operator: it writes only what the workflows recorded.

Exit codes: 0 the database agrees with Temporal (after --apply: agrees now); 1 it lacks something (after --apply:
something could not be recorded again); 2 bad input, or PostgreSQL or Temporal out of reach.
"""

from __future__ import annotations

import asyncio
import sys

import typer
from rich.table import Table
from temporalio.service import RPCError

import glossary
from cli.common import console, database, err_console, fail, refusal_text, settings_with_database
from cli.ops import EXIT_USAGE
from infra.logs import configure_logging
from infra.temporal import connect
from services.errors import Refusal
from services.reconcile import service
from services.reconcile.schemas import CaseGap, ReconcileReport
from web.i18n import Translator

T = Translator("vi")  # what people read is Vietnamese (web/text_reconcile.py)


def _t(key: str, **values: object) -> str:
    return T(f"rec_{key}", **values)


def _stage(code: str | None, seq: int | None, status: str | None) -> str:
    if code is None:
        return _t("none")
    closed = f", {_t('closed')}" if status == "closed" else ""
    return f"{glossary.term('stage', code)} (#{seq}{closed})"


def _missing(g: CaseGap) -> str:
    return "; ".join(
        f"#{s} {glossary.term('stage', st)}" for s, st in zip(g.missing_seqs, g.missing_stages, strict=True)
    )


def _done(g: CaseGap) -> str:
    parts = [", ".join(f"#{s}" for s in g.rerecorded_seqs)] if g.rerecorded_seqs else []
    if g.notifications_dispatched:
        parts.append(_t("sent", n=g.notifications_dispatched))
    if g.notifications_settled:
        parts.append(_t("settled", n=g.notifications_settled))
    if g.history_archived:
        parts.append(_t("archived"))
    return "; ".join(parts)


def _table(report: ReconcileReport) -> None:
    scope = glossary.province_name(report.province) if report.province else _t("all")
    if report.round_id:
        scope = f"{scope}, {glossary.round_label(report.round_id)}"
    title = f"{_t('title', scope=scope)} — {_t('applied' if report.applied else 'dry')}"
    if report.cases:
        headers = ["case", "unit", "db", "wf", "missing", "task"] + (["done"] if report.applied else []) + ["note"]
        cases = Table(*(_t(h) for h in headers), title=title)
        for g in report.cases:
            notes = [g.note or ""] + ([_t("unarchived")] if g.history_unarchived else [])
            row = [
                g.case_id,
                f"{g.unit_name or g.unit_code} ({g.unit_code})",
                _stage(g.db_stage, g.db_seq, g.db_status),
                _stage(g.wf_stage, g.wf_seq, g.wf_status),
                _missing(g),
                f"{g.db_open_task or _t('none')} → {g.wf_open_task or _t('none')}",
            ]
            row += [_done(g)] if report.applied else []
            cases.add_row(*row, "; ".join(n for n in notes if n), style=None if g.repairable else "red")
        console.print(cases)
    else:
        console.print(title, highlight=False)
    if report.rounds:
        rounds = Table(_t("round"), _t("province"), _t("missing"), _t("done"))
        for r in report.rounds:
            lacks = [
                _t(k) for k, on in (("round_opening", r.opening_missing), ("round_report", r.report_missing)) if on
            ]
            done = _t("sent", n=r.notifications_dispatched) if r.rerecorded else ""
            rounds.add_row(
                glossary.round_label(r.round_id), glossary.province_name(r.province_code), "; ".join(lacks), done
            )
        console.print(rounds)
    keys = ["checked", "running", "lacking"]
    keys += ["rerecorded_cases", "rerecorded_transitions", "remaining"] if report.applied else []
    keys += ["in_flight", "seconds"]
    summary = Table(*(_t(k) for k in keys))
    summary.add_row(*(str(getattr(report, k)).replace(".", ",") for k in keys))
    console.print(summary)
    if report.in_agreement:
        console.print(_t("agree"), highlight=False)


def _progress(phase: str, done: int, total: int) -> None:
    err_console.print(_t(f"progress_{phase}", done=done, total=total), highlight=False)


def reconcile(
    province: str | None = typer.Option(None, "--province", help="only this province (two-digit code, e.g. 33)"),
    round_id: str | None = typer.Option(None, "--round", help="only this round, e.g. qd06-2019:2027"),
    apply: bool = typer.Option(False, "--apply", help="record again what the database lacks (else: report only)"),
    output: str = typer.Option("table", "--format", help="table (Vietnamese) or json (for scripts)"),
    every: int = typer.Option(50, "--every", min=1, help="progress on stderr every N cases"),
) -> None:
    """Compare the database with what the case workflows recorded in Temporal (after a restore from a backup);
    with --apply, record again every transition it lacks, in order, and deliver their news once. Exit 0 when they
    agree, 1 when they differ."""
    if output not in ("table", "json"):
        fail(T("cli_format", value=output, choices="table, json"), EXIT_USAGE)
    s = settings_with_database()
    configure_logging(s.log_level, s.log_format)  # to stderr: stdout carries the table or the JSON

    async def main() -> ReconcileReport:
        async with database(s, pool_size=4) as sessions:
            client = await connect(s)
            return await service.reconcile(
                client,
                sessions,
                task_queue=s.task_queue,
                province=province,
                round_id=round_id,
                apply=apply,
                progress=_progress,
                every=every,
            )

    try:
        report = asyncio.run(main())
    except Refusal as exc:
        fail(refusal_text(exc, options=True), EXIT_USAGE)
    except (OSError, RuntimeError, RPCError) as exc:  # exit 2: not 1, which says the database lacks something
        fail(_t("unreachable", detail=exc), EXIT_USAGE)
    if output == "json":
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
    else:
        _table(report)
    raise typer.Exit(0 if report.in_agreement else 1)
