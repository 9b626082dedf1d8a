"""`xptt bulk`: administrators' bulk actions by filter — the API's own bulk routes, run from the command line.

Every command is a dry run unless given --apply: it prints how many open cases match and a sample; with --apply it
acts on every match in batches, each change journalled with the reason and the administrator (--as).
Exit codes: 0 done, 1 done but some cases were refused or failed, 2 could not run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.table import Table

from api.bulk import BulkFilter, BulkResult
from api.routes import bulk as routes
from cli.common import console, fail
from cli.ops import EXIT_PARTIAL, EXIT_USAGE, run
from domain.stages import Stage

app = typer.Typer(
    help="Bulk actions on open cases by filter (dry run unless --apply): extend, reassign, remind, hold, release.",
    no_args_is_help=True,
)

PROVINCE = typer.Option(..., help="two-digit province code, e.g. 33")
AS = typer.Option(..., "--as", help="the administrator acting (an official id with the admin role in the province)")
REASON = typer.Option(..., help="why: journalled with each change")
UNIT = typer.Option(None, "--unit", help="only these unit codes (repeatable)")
STAGE = typer.Option(None, "--stage", help="only cases at these stages (repeatable)")
ROUND = typer.Option(None, "--round", help="only this round, e.g. qd06-2019:2027")
OVERDUE = typer.Option(None, "--overdue/--not-overdue", help="only tasks past (or not past) their due time")
ESCALATED = typer.Option(None, "--escalated/--not-escalated", help="only escalated (or not escalated) tasks")
APPLY = typer.Option(False, "--apply", help="act on every match (without it: a dry run)")
KEY = typer.Option(None, "--key", help="idempotency key: running the same command with it again changes nothing")


R = TypeVar("R", bound=BaseModel)


def _request(model: type[R], **fields: Any) -> R:
    """The route's own request model: a bad option gets the model's reason, naming the field."""
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        fail(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}", EXIT_USAGE)


def _filter(
    province: str,
    units: list[str] | None,
    stages: list[Stage] | None,
    round_id: str | None,
    overdue: bool | None,
    escalated: bool | None,
) -> BulkFilter:
    return _request(
        BulkFilter,
        province=province,
        units=units or None,
        stages=stages or None,
        round=round_id,
        overdue=overdue,
        escalated=escalated,
    )


def _execute(official: str, call: Callable[[Any, Any, Any], Awaitable[BulkResult]], *, apply: bool) -> None:
    with console.status("applying to every match…" if apply else "counting the matches…"):
        result: BulkResult = run(call, official=official)
    summary = Table(title=f"{result.action} — {'applied' if not result.dry_run else 'dry run'}")
    for col in ("matched", "applied", "refused", "failed", "batches"):
        summary.add_column(col, justify="right")
    refused = sum(result.refused.values())
    summary.add_row(str(result.matched), str(result.applied), str(refused), str(result.failed), str(result.batches))
    console.print(summary)
    if result.sample:
        sample = Table(title=f"first {len(result.sample)} matches")
        for col in ("case", "unit", "stage", "due", "escalation"):
            sample.add_column(col)
        for i in result.sample:
            sample.add_row(
                i.case_id,
                f"{i.unit_name} ({i.unit_code})",
                i.stage,
                i.due_at.strftime("%Y-%m-%d %H:%M") if i.due_at else "",
                str(i.escalation_level or 0),
            )
        console.print(sample)
    for r in result.refusals:
        console.print(f"refused {r.case_id}: {r.code} — {r.detail}", highlight=False)
    if not result.dry_run and (refused or result.failed):
        raise typer.Exit(EXIT_PARTIAL)


@app.command("extend")
def extend(
    province: str = PROVINCE,
    as_: str = AS,
    reason: str = REASON,
    new_due_at: str = typer.Option(None, help="the new due time, with its zone, e.g. 2027-12-01T17:00:00+07:00"),
    add_working_days: int = typer.Option(None, min=1, max=250, help="or: move each due time by working days"),
    unit: list[str] = UNIT,
    stage: list[Stage] = STAGE,
    round_id: str = ROUND,
    overdue: bool = OVERDUE,
    escalated: bool = ESCALATED,
    apply: bool = APPLY,
    key: str = KEY,
) -> None:
    """Move the due time of every matched open task (its reminder and ladder start again from it)."""
    if (new_due_at is None) == (add_working_days is None):
        fail("give exactly one of --new-due-at and --add-working-days", EXIT_USAGE)
    due = None
    if new_due_at is not None:
        try:
            due = datetime.fromisoformat(new_due_at)
        except ValueError:
            fail(f"--new-due-at: {new_due_at!r} is not an ISO date-time", EXIT_USAGE)
        if due.tzinfo is None:
            fail("--new-due-at needs its time zone, e.g. +07:00", EXIT_USAGE)
    req = _request(
        routes.ExtendDueRequest,
        filter=_filter(province, unit, stage, round_id, overdue, escalated),
        dry_run=not apply,
        reason=reason,
        new_due_at=due,
        add_working_days=add_working_days,
    )
    _execute(as_, lambda s, c, p: routes.extend_due(req, p, s, c, key), apply=apply)


@app.command("reassign")
def reassign(
    province: str = PROVINCE,
    as_: str = AS,
    reason: str = REASON,
    to: str = typer.Option(..., help="the official who takes the tasks (must hold each task's role)"),
    unit: list[str] = UNIT,
    stage: list[Stage] = STAGE,
    round_id: str = ROUND,
    overdue: bool = OVERDUE,
    escalated: bool = ESCALATED,
    apply: bool = APPLY,
    key: str = KEY,
) -> None:
    """Give every matched open task to one official."""
    req = _request(
        routes.ReassignRequest,
        filter=_filter(province, unit, stage, round_id, overdue, escalated),
        dry_run=not apply,
        reason=reason,
        official_id=to,
    )
    _execute(as_, lambda s, c, p: routes.reassign(req, p, s, c, key), apply=apply)


@app.command("remind")
def remind(
    province: str = PROVINCE,
    as_: str = AS,
    unit: list[str] = UNIT,
    stage: list[Stage] = STAGE,
    round_id: str = ROUND,
    overdue: bool = OVERDUE,
    escalated: bool = ESCALATED,
    apply: bool = APPLY,
    key: str = KEY,
) -> None:
    """Send whoever holds each matched open task a reminder now."""
    req = _request(
        routes.RemindRequest, filter=_filter(province, unit, stage, round_id, overdue, escalated), dry_run=not apply
    )
    _execute(as_, lambda s, c, p: routes.remind(req, p, s, c, key), apply=apply)


@app.command("hold")
def hold(
    province: str = PROVINCE,
    as_: str = AS,
    reason: str = REASON,
    unit: list[str] = UNIT,
    stage: list[Stage] = STAGE,
    round_id: str = ROUND,
    overdue: bool = OVERDUE,
    escalated: bool = ESCALATED,
    apply: bool = APPLY,
    key: str = KEY,
) -> None:
    """Put every matched case on hold (its deadlines pause)."""
    req = _request(
        routes.HoldRequest,
        filter=_filter(province, unit, stage, round_id, overdue, escalated),
        dry_run=not apply,
        reason=reason,
    )
    _execute(as_, lambda s, c, p: routes.hold(req, p, s, c, key), apply=apply)


@app.command("release")
def release(
    province: str = PROVINCE,
    as_: str = AS,
    reason: str = REASON,
    unit: list[str] = UNIT,
    stage: list[Stage] = STAGE,
    round_id: str = ROUND,
    overdue: bool = OVERDUE,
    escalated: bool = ESCALATED,
    apply: bool = APPLY,
    key: str = KEY,
) -> None:
    """Release every matched case on hold (its deadlines move by the time held)."""
    req = _request(
        routes.ReleaseRequest,
        filter=_filter(province, unit, stage, round_id, overdue, escalated),
        dry_run=not apply,
        reason=reason,
    )
    _execute(as_, lambda s, c, p: routes.release(req, p, s, c, key), apply=apply)
