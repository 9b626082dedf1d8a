"""`xptt units`: the current commune-level units and their locality types."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

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
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    by_type = Counter(u.locality_type for u in units)
    by_division = Counter(u.division_type for u in units)
    table = Table(title=f"{len(units)} units" + (f" in province {province}" if province else ""))
    table.add_column("Locality type")
    table.add_column("Units", justify="right")
    for kind in LocalityType:
        table.add_row(kind.value, str(by_type[kind]))
    console = Console()
    console.print(table)
    console.print(", ".join(f"{name}: {n}" for name, n in sorted(by_division.items())))
