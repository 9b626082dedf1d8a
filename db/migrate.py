"""Apply the Alembic migrations shipped inside the package (works from a checkout and from an installed image)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

from db.session import make_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Synchronous entry point (CLI); do not call from a running event loop."""
    command.upgrade(alembic_config(database_url), revision)


async def upgrade_async(database_url: str, revision: str = "head") -> None:
    """Run the migrations on one connection from inside an event loop (tests, the dev stack)."""
    engine = make_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as connection:

            def _apply(sync_connection: object) -> None:
                cfg = alembic_config(database_url)
                cfg.attributes["connection"] = sync_connection
                command.upgrade(cfg, revision)

            await connection.run_sync(_apply)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    from infra.settings import get_settings

    asyncio.run(upgrade_async(get_settings().database_url))
