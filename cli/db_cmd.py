"""`xptt db`: migrations and reference data."""

from __future__ import annotations

import asyncio

import typer

from cli.common import T, console, database, fail, settings_with_database
from db.migrate import upgrade
from services.seed import SeedError, seed_units

app = typer.Typer(help="Database: apply migrations, seed provinces and units.", no_args_is_help=True)


@app.command("upgrade")
def upgrade_cmd(revision: str = typer.Argument("head", help="Alembic revision to migrate to")) -> None:
    """Apply the schema migrations (Alembic) to DATABASE_URL."""
    s = settings_with_database()
    upgrade(s.database_url, revision)
    console.print(f"database at revision [bold]{revision}[/]")


@app.command("seed-units")
def seed_units_cmd(
    province: str = typer.Option(None, help="two-digit province code; all 3,321 units when omitted"),
) -> None:
    """Load provinces and commune-level units from the `vietnam-provinces` package (idempotent)."""
    s = settings_with_database()

    async def run() -> int:
        async with database(s, pool_size=1) as sessions, sessions() as session, session.begin():
            return await seed_units(session, province)

    try:
        n = asyncio.run(run())
    except SeedError as exc:
        fail(str(exc), 2)
    console.print(T("cli_units_seeded", n=n))
