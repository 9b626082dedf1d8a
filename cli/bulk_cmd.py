"""`xptt bulk`: administrators' bulk actions by filter — the actions of services/bulk, run from the command line.

Every command is a dry run unless given --apply: it prints how many open cases match and a sample; with --apply it
acts on every match in batches, each change journalled with the reason and the administrator (--as). Without any of
--unit, --stage, --round, --overdue, --escalated the filter is the whole province: --apply then also needs --all.
Exit codes: 0 done, 1 done but some cases were refused or failed, 2 could not run.

Each command takes the same options — who acts, where, why, which cases, whether to apply — around its own (the new
due time, the official taking the tasks): the commands are made from one table, each with its own options added.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.table import Table

from cli.common import console, fail, invalid_text, task_cells
from cli.ops import EXIT_PARTIAL, EXIT_USAGE, run
from domain.stages import Stage
from services.bulk import service as bulk
from services.bulk.schemas import Action, BulkFilter, BulkRequest, BulkResult
from web.i18n import Translator

T = Translator("vi")  # what people read is Vietnamese (glossary)
app = typer.Typer(
    help="Bulk actions on open cases by filter (dry run unless --apply): extend, reassign, remind, hold, release.",
    no_args_is_help=True,
)


def _option(name: str, annotation: Any, default: Any, *flags: str, **details: Any) -> inspect.Parameter:
    """The keyword parameter `name` of a command, read by Typer as `typer.Option(default, *flags, **details)`."""
    option = typer.Option(default, *flags, **details)
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=annotation)


WHO = [
    _option("province", str, ..., help="two-digit province code, e.g. 33"),
    _option(
        "as_", str, ..., "--as", help="the administrator acting (an official id with the admin role in the province)"
    ),
]
WHY = _option("reason", str, ..., help="why: journalled with each change")
WHICH = [
    _option("unit", list[str], None, "--unit", help="only these unit codes (repeatable)"),
    _option("stage", list[Stage], None, "--stage", help="only cases at these stages (repeatable)"),
    _option("round_id", str, None, "--round", help="only this round, e.g. qd06-2019:2027"),
    _option("overdue", bool, None, "--overdue/--not-overdue", help="only tasks past (or not past) their due time"),
    _option("escalated", bool, None, "--escalated/--not-escalated", help="only escalated (or not escalated) tasks"),
]
HOW = [
    _option("apply", bool, False, "--apply", help="act on every match (without it: a dry run)"),
    _option(
        "all_", bool, False, "--all", help="with --apply and no other filter: yes, every open case of the province"
    ),
    _option("key", str, None, "--key", help="idempotency key: running the same command with it again changes nothing"),
]


def _extend_fields(options: dict[str, Any]) -> dict[str, Any]:
    new_due_at, add_working_days = options["new_due_at"], options["add_working_days"]
    if (new_due_at is None) == (add_working_days is None):
        fail(T("cli_due_one_of"), EXIT_USAGE)
    due = None
    if new_due_at is not None:
        try:
            due = datetime.fromisoformat(new_due_at)
        except ValueError:
            fail(T("cli_due_not_iso", value=new_due_at), EXIT_USAGE)
        if due.tzinfo is None:
            fail(T("cli_due_no_zone"), EXIT_USAGE)
    return {"new_due_at": due, "add_working_days": add_working_days}


@dataclass(frozen=True)
class Command:
    """A bulk command: its action, its help, its own options and the request fields they make."""

    action: Action
    help: str
    options: list[inspect.Parameter] = field(default_factory=list)
    fields: Callable[[dict[str, Any]], dict[str, Any]] = lambda _: {}
    reason: bool = True


COMMANDS = {
    "extend": Command(
        "extend_due",
        "Move the due time of every matched open task (its reminder and ladder start again from it).",
        [
            _option("new_due_at", str, None, help="the new due time, with its zone, e.g. 2027-12-01T17:00:00+07:00"),
            _option("add_working_days", int, None, min=1, max=250, help="or: move each due time by working days"),
        ],
        _extend_fields,
    ),
    "reassign": Command(
        "reassign",
        "Give every matched open task to one official.",
        [_option("to", str, ..., help="the official who takes the tasks (must hold each task's role)")],
        lambda options: {"official_id": options["to"]},
    ),
    "remind": Command("remind", "Send whoever holds each matched open task a reminder now.", reason=False),
    "hold": Command("hold", "Put every matched case on hold (its deadlines pause)."),
    "release": Command("release", "Release every matched case on hold (its deadlines move by the time held)."),
}

R = TypeVar("R", bound=BaseModel)


def _request(model: type[R], **fields: Any) -> R:
    """The action's own request model: a bad option gets the model's reason, naming the field."""
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        fail(invalid_text(exc), EXIT_USAGE)


def _command(command: Command) -> Callable[..., None]:
    def bulk_command(**options: Any) -> None:
        own = command.fields(options)
        filt = _request(
            BulkFilter,
            province=options["province"],
            units=options["unit"] or None,
            stages=options["stage"] or None,
            round=options["round_id"],
            overdue=options["overdue"],
            escalated=options["escalated"],
        )
        why = {"reason": options["reason"]} if command.reason else {}
        req = _request(
            bulk.ACTIONS[command.action].request,
            filter=filt,
            dry_run=not options["apply"],
            all=options["all_"],
            **why,
            **own,
        )
        _execute(options["as_"], command.action, req, key=options["key"])

    # Typer reads the options from the signature: the shared ones around the command's own.
    bulk_command.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [*WHO, *([WHY] if command.reason else []), *command.options, *WHICH, *HOW]
    )
    return bulk_command


def _execute(official: str, action: Action, req: BulkRequest, *, key: str | None) -> None:
    with console.status(T("cli_bulk_counting" if req.dry_run else "cli_bulk_applying")):
        result: BulkResult = run(
            lambda session, client, principal: bulk.run(
                session, client, principal, action, req, idempotency_key=key, now=datetime.now(UTC)
            ),
            official=official,
        )
    mode = T("bulk_dry_mode") if result.dry_run else T("bulk_applied_mode")
    summary = Table(title=T("bulk_summary", action=T(f"bulk_action_{result.action}"), mode=mode))
    for col in ("matched", "applied", "bulk_refused_n", "bulk_failed_n", "bulk_batches"):
        summary.add_column(T(col), justify="right")
    refused = sum(result.refused.values())
    summary.add_row(str(result.matched), str(result.applied), str(refused), str(result.failed), str(result.batches))
    console.print(summary)
    if result.sample:
        headers = ("case_id", "unit", "stage", "due", "escalation_level")
        sample = Table(*(T(h) for h in headers), title=T("bulk_sample", n=len(result.sample)))
        for i in result.sample:
            place = task_cells(i.unit_name, i.unit_code, i.stage, i.due_at)
            sample.add_row(i.case_id, *place, str(i.escalation_level or 0))
        console.print(sample)
    for r in result.refusals:
        console.print(T("bulk_refused_line", case=r.case_id, reason=T.refusal(r.code, r.detail)), highlight=False)
    if result.dry_run and not req.filter.conditions() and result.matched:
        console.print(T("bulk_no_filter", n=result.matched), highlight=False)
    if not result.dry_run and (refused or result.failed):
        raise typer.Exit(EXIT_PARTIAL)


for _name, _spec in COMMANDS.items():
    app.command(_name, help=_spec.help)(_command(_spec))
