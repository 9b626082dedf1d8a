"""`xptt ministry`: the report each province sends the ministry when its round closes, and the national report.
Grant or withdraw the ministry's national role (the operator), read and submit a province's report (its
administrator, named with --as), verify a submitted one, print the national report. In process, over the database.

Exit codes: 0 done; 1 `verify` found the report altered; 2 bad input or refused (the reason); 3 not found."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.table import Table

import glossary
from cli.common import console, fail
from cli.officials_cmd import in_process
from cli.ops import EXIT_USAGE
from services.ministry import roles, service
from services.ministry.schemas import SubmitIn
from web.i18n import Translator

app = typer.Typer(help="The report to the ministry: each province's, and the national report.", no_args_is_help=True)
T = Translator("vi")
PROVINCE = typer.Option(..., help="two-digit province code, e.g. 33")
AS = typer.Option(None, "--as", help="the official acting (default: the operator)")
NO_PROVINCE = "00"  # the operator's scope when no province is asked for: covers none


@app.command("grant")
def grant_cmd(
    official: str,
    name: str | None = typer.Option(None, "--name", help="full name, to register an official not yet known"),
    email: str | None = typer.Option(None, "--email"),
) -> None:
    """Give an official the ministry's national role (reads every province's report, writes nothing)."""
    added = in_process(
        lambda s, _: roles.grant(s, official, full_name=name, email=email, now=datetime.now(UTC)), province=NO_PROVINCE
    )
    console.print(T("ministry_granted" if added else "ministry_had", official=official), highlight=False)


@app.command("revoke")
def revoke_cmd(official: str) -> None:
    """Withdraw the ministry's role from an official."""
    removed = in_process(lambda s, _: roles.revoke(s, official), province=NO_PROVINCE)
    console.print(T("ministry_revoked" if removed else "ministry_none", official=official), highlight=False)


@app.command("report")
def report_cmd(round_id: str, province: str = PROVINCE, as_: str | None = AS) -> None:
    """The province's report to the ministry: status, due day, check code of the draft or of the submitted report."""
    out = in_process(
        lambda s, p: service.report_of(s, p, round_id, province, now=datetime.now(UTC)), province=province, official=as_
    )
    console.print(
        T("mr_title", round_name=glossary.round_label(round_id), province=out.province_name),
        style="bold",
        highlight=False,
    )
    console.print(f"{T('mr_status')}: {glossary.term('report_status', out.status.value)}", highlight=False)
    console.print(f"{T('mr_due')}: {glossary.day(out.due_on) if out.due_on else '—'}", highlight=False)
    if out.submitted_at is not None:
        when = glossary.moment(out.submitted_at)
        console.print(
            T("mr_submitted", when=when, who=out.submitted_by_name or out.submitted_by or "—"), highlight=False
        )
        console.print(f"{T('mr_hash')}: {out.snapshot_hash}", highlight=False)
    elif out.draft_hash is not None:
        console.print(f"{T('mr_draft_hash')}: {out.draft_hash}", highlight=False)


@app.command("submit")
def submit_cmd(
    round_id: str,
    province: str = PROVINCE,
    reviewed_hash: str = typer.Option(..., "--hash", help="the draft's check code, as `xptt ministry report` printed"),
    as_: str = typer.Option(..., "--as", help="the administrator submitting (admin role in the province)"),
) -> None:
    """Submit the province's report as reviewed: final, its check code written into the province's journal."""
    try:
        req = SubmitIn(province=province, reviewed_hash=reviewed_hash)
    except ValueError as exc:
        fail(f"--hash/--province: {exc}", EXIT_USAGE)
    out = in_process(
        lambda s, p: service.submit(s, p, round_id, req, now=datetime.now(UTC)), province=province, official=as_
    )
    line = T(
        "mr_submitted_line",
        round_name=glossary.round_label(round_id),
        province=out.province_name,
        hash=out.snapshot_hash,
    )
    console.print(line, highlight=False)


@app.command("verify")
def verify_cmd(round_id: str, province: str = PROVINCE, as_: str | None = AS) -> None:
    """Recompute the submitted report's check code and compare it with the one stored and the journal's."""
    out = in_process(lambda s, p: service.verify(s, p, round_id, province), province=province, official=as_)
    console.print(T("mr_verified" if out.ok else "mr_altered"), highlight=False)
    console.print(f"{T('mr_hash')}: {out.stored_hash} / {out.recomputed_hash} / {out.journal_hash}", highlight=False)
    if not out.ok:
        raise typer.Exit(1)


@app.command("national")
def national_cmd(round_id: str, as_: str | None = AS) -> None:
    """The national report of a round: each province's status and the totals of the reports submitted."""
    out = in_process(
        lambda s, p: service.national(s, p, round_id, now=datetime.now(UTC)),
        province=NO_PROVINCE,
        official=as_,
        ministry=True,
    )
    table = Table(title=T("national_title", round_name=glossary.round_label(round_id)))
    for header in ("national_province", "mr_status", "mr_due", "national_submitted_at", "national_units"):
        table.add_column(T(header))
    table.add_column(T("national_recognised"))
    table.add_column(T("national_share"))
    for p in out.provinces:
        table.add_row(
            p.province_name,
            glossary.term("report_status", p.status.value),
            glossary.day(p.due_on) if p.due_on else "—",
            glossary.moment(p.submitted_at) if p.submitted_at else "—",
            "—" if p.units is None else str(p.units),
            "—" if p.recognised is None else str(p.recognised),
            glossary.percent(p.recognised_share),
        )
    console.print(table)
    t = out.totals
    line = T(
        "national_totals",
        submitted=t.submitted,
        provinces=t.provinces,
        recognised=t.recognised,
        units=t.units,
        share=glossary.percent(t.recognised_share),
    )
    console.print(line, highlight=False)
