"""The schema the migrations build is the schema the models describe: no drift either way."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine

import db.models_attempts
import db.models_audit
import db.models_history
import db.models_ministry
import db.models_notify
from db.models import Base


async def test_migrated_database_matches_the_models(engine: AsyncEngine) -> None:
    assert db.models_audit and db.models_attempts  # their tables are part of the metadata too

    def diff(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as conn:
        changes = await conn.run_sync(diff)
    assert changes == []
