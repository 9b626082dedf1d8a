"""`xptt targets`: a province's targets per plan period — list them, set one (as an administrator named with --as).
In process, over the database only.

Exit codes: 0 done; 2 bad input (the field and the reason) or no database."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from pydantic import ValidationError
from rich.table import Table

import glossary
from cli.common import console, fail, invalid_text
from cli.officials_cmd import in_process
from cli.ops import EXIT_USAGE
from services import targets
from services.targets import TargetIn
from web.i18n import Translator

app = typer.Typer(
    help="A province's targets: the share of its units to recognise, per plan period.", no_args_is_help=True
)
T = Translator("vi")  # what people read is Vietnamese (glossary)
PROVINCE = typer.Option(..., help="two-digit province code, e.g. 33")


@app.command("list")
def list_cmd(province: str = PROVINCE) -> None:
    """The province's targets, earliest plan first."""
    rows = in_process(lambda session, principal: targets.list_targets(session, principal, province), province=province)
    table = Table(title=T("targets_title", province=glossary.province_name(province)))
    for header in ("target_years", "target_share", "target_plan"):
        table.add_column(T(header))
    for t in rows:
        table.add_row(f"{t.first_year}–{t.last_year}", f"{t.share * 100:.2f}".rstrip("0").rstrip(".") + " %", t.plan)
    console.print(table)


@app.command("set")
def set_cmd(
    province: str = PROVINCE,
    first_year: int = typer.Option(..., "--from", help="first year of the plan period"),
    last_year: int = typer.Option(..., "--until", help="last year of the plan period (inclusive)"),
    percent: float = typer.Option(..., "--percent", help="share of the province's units to recognise, in percent"),
    plan: str = typer.Option(..., "--plan", help="the plan that set it, e.g. 'KH 226/KH-UBND'"),
    as_: str = typer.Option(..., "--as", help="the administrator setting it (admin role in the province)"),
    reason: str | None = typer.Option(None, "--reason"),
) -> None:
    """Set the province's target for a plan period (the same first year again changes it); journalled."""
    try:
        req = TargetIn(
            province=province,
            first_year=first_year,
            last_year=last_year,
            share_percent=percent,
            plan=plan,
            reason=reason,
        )
    except ValidationError as exc:
        fail(invalid_text(exc), EXIT_USAGE)
    out = in_process(lambda s, p: targets.set_target(s, p, req, now=datetime.now(UTC)), province=province, official=as_)
    console.print(
        T(
            "target_set_line",
            province=glossary.province_name(province),
            first=out.first_year,
            last=out.last_year,
            share=f"{out.share * 100:g}",
            plan=out.plan,
        ),
        highlight=False,
    )
