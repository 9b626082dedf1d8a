"""`xptt units`: the current commune-level units and their locality types."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

import glossary
from cli.common import T, fail
from domain.errors import DomainError
from domain.stages import LocalityType
from domain.units import load_units

app = typer.Typer(help="Commune-level units from vietnam-provinces, with their locality types.")


@app.command()
def count(
    province: Annotated[str | None, typer.Option("--province", help="2-digit province code, e.g. 01")] = None,
) -> None:
    """Count units by division type and by locality type."""
    try:
        units = load_units(province)
    except DomainError as exc:
        fail(str(exc), 2)
    by_type = Counter(u.locality_type for u in units)
    by_division = Counter(u.division_type for u in units)
    title = (
        T("cli_units_title_province", n=len(units), province=province)
        if province
        else T("cli_units_title", n=len(units))
    )
    table = Table(title=title)
    table.add_column(T("cli_locality"))
    table.add_column(T("cli_units"), justify="right")
    for kind in LocalityType:
        table.add_row(glossary.term("locality", kind), str(by_type[kind]))
    console = Console()
    console.print(table)
    console.print(", ".join(f"{name}: {n}" for name, n in sorted(by_division.items())))


@app.command("lineage")
def lineage(unit: Annotated[str, typer.Argument(help="the current unit's five-digit code")]) -> None:
    """The units before 1 July 2025 merged into a current unit (from vietnamadminunits), and the streak rule."""
    from cli.officials_cmd import in_process  # the database, as the operator over the unit's province
    from services.history import service

    found = next((u for u in load_units() if u.code == unit.zfill(5)), None)
    if found is None:
        fail(T("cli_no_unit", unit=unit), 2)
    out = in_process(
        lambda session, principal: service.unit_lineage(session, principal, found.code), province=found.province_code
    )
    console = Console()
    if not out.predecessors:
        console.print(T("hist_lineage_none"), highlight=False)
        return
    table = Table(title=T("hist_lineage_title", unit=out.unit_name))
    for header in ("hist_former_unit", "hist_district", "hist_former_province", "hist_divided", "hist_counted"):
        table.add_column(T(header))
    for p in out.predecessors:
        divided = (T("yes") + (f" ({T('hist_default')})" if p.is_default else "")) if p.divided else T("no")
        table.add_row(p.name, p.district_name or "", p.province_name or "", divided, T("yes" if p.counted else "no"))
    console.print(table)
    console.print(T("hist_policy", policy=glossary.term("merger_policy", out.policy)), highlight=False)
    if out.source:
        console.print(T("hist_source", source=out.source), highlight=False)
