"""The ministry's officials: a national role held outside any province, granted and withdrawn by the operator (who runs
the `xptt ministry grant|revoke` commands with the database's URL); no province's administrator can grant it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import OfficialRow
from db.models_ministry import NationalRoleRow
from services.access import MINISTRY
from services.errors import Refusal

OPERATOR = "cli-operator"
DEMO_MINISTRY, DEMO_MINISTRY_NAME = "demo-ministry", "Trần Thị Hằng (Bộ Y tế)"  # `make run`'s ministry official


async def grant(
    session: AsyncSession, official_id: str, *, full_name: str | None, email: str | None, now: datetime
) -> bool:
    """Give `official_id` the ministry's role, registering the official first when unknown (then `full_name` is
    needed); True when the role is new."""
    official = await session.get(OfficialRow, official_id)
    if official is None:
        if not full_name or not full_name.strip():
            raise Refusal(
                422, "invalid_request", f"name: {official_id} is not registered; give their full name", field="name"
            )
        session.add(OfficialRow(id=official_id, full_name=full_name.strip(), email=email, created_by=OPERATOR))
        await session.flush()
    elif not official.active:
        raise Refusal(409, "official_inactive", f"official {official_id} is inactive", field="official")
    stmt = insert(NationalRoleRow).values(official_id=official_id, role=MINISTRY, granted_at=now, granted_by=OPERATOR)
    result = await session.execute(stmt.on_conflict_do_nothing().returning(NationalRoleRow.official_id))
    added = result.first() is not None
    await session.commit()
    return added


async def revoke(session: AsyncSession, official_id: str) -> bool:
    result = await session.execute(
        delete(NationalRoleRow)
        .where(NationalRoleRow.official_id == official_id, NationalRoleRow.role == MINISTRY)
        .returning(NationalRoleRow.official_id)
    )
    removed = result.first() is not None
    await session.commit()
    return removed


async def holders(session: AsyncSession) -> list[tuple[str, str]]:
    rows = await session.execute(
        select(OfficialRow.id, OfficialRow.full_name)
        .join(NationalRoleRow, NationalRoleRow.official_id == OfficialRow.id)
        .where(NationalRoleRow.role == MINISTRY)
        .order_by(OfficialRow.id)
    )
    return [(r.id, r.full_name) for r in rows]
