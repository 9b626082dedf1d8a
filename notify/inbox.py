"""Repository functions for the API and the admins' board: in-app notifications (read/unread), preferences, and
notifications that failed. They take a session and never commit; the request owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models_notify import NotificationPreferenceRow, NotificationRow
from notify.events import Channel
from notify.preferences import Preferences
from notify.recipients import preferences_of


class InAppNotification(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: str
    kind: str
    subject: str
    body: str
    link: str | None
    case_id: str | None
    task_id: str | None
    unit_code: str | None
    created_at: datetime
    read_at: datetime | None


class FailedNotification(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: str
    kind: str
    channel: str
    official_id: str
    address: str | None
    case_id: str | None
    unit_code: str | None
    province_code: str | None
    subject: str
    attempts: int
    last_error: str | None
    created_at: datetime
    failed_at: datetime | None


async def list_notifications(
    session: AsyncSession, official_id: str, *, unread_only: bool = False, limit: int = 50
) -> list[InAppNotification]:
    """The official's in-app notifications, newest first."""
    query = select(NotificationRow).where(
        NotificationRow.official_id == official_id, NotificationRow.channel == Channel.IN_APP.value
    )
    if unread_only:
        query = query.where(NotificationRow.read_at.is_(None))
    rows = (
        await session.execute(
            query.order_by(NotificationRow.created_at.desc(), NotificationRow.id).limit(max(1, min(limit, 500)))
        )
    ).scalars()
    return [InAppNotification.model_validate(r) for r in rows]


async def count_unread(session: AsyncSession, official_id: str) -> int:
    return int(
        await session.scalar(
            select(func.count()).where(
                NotificationRow.official_id == official_id,
                NotificationRow.channel == Channel.IN_APP.value,
                NotificationRow.read_at.is_(None),
            )
        )
        or 0
    )


async def mark_read(
    session: AsyncSession, official_id: str, ids: Sequence[str], *, at: datetime | None = None
) -> list[str]:
    """Mark the official's own in-app notifications read; ids of others are ignored. Marking twice changes nothing:
    returns the ids that were unread until now."""
    if not ids:
        return []
    result = await session.execute(
        update(NotificationRow)
        .where(
            NotificationRow.id.in_(list(ids)),
            NotificationRow.official_id == official_id,
            NotificationRow.channel == Channel.IN_APP.value,
            NotificationRow.read_at.is_(None),
        )
        .values(read_at=at if at is not None else func.now())
        .returning(NotificationRow.id)
    )
    return sorted(result.scalars())


async def failed_notifications(
    session: AsyncSession, province_code: str | None = None, *, limit: int = 100
) -> list[FailedNotification]:
    """Notifications that ended `failed` (a refused address, retries exhausted), newest first; one province or all.
    For the administrators' board of stuck work."""
    query = select(NotificationRow).where(NotificationRow.status == "failed")
    if province_code is not None:
        query = query.where(NotificationRow.province_code == province_code)
    rows = (
        await session.execute(
            query.order_by(NotificationRow.failed_at.desc().nulls_last(), NotificationRow.id).limit(limit)
        )
    ).scalars()
    return [FailedNotification.model_validate(r) for r in rows]


async def get_preferences(session: AsyncSession, official_id: str) -> Preferences:
    return preferences_of(await session.get(NotificationPreferenceRow, official_id))


async def set_preferences(session: AsyncSession, official_id: str, prefs: Preferences, *, at: datetime) -> None:
    """Upsert the official's preferences; they apply to events enqueued from now on."""
    values = {
        "official_id": official_id,
        "channels": sorted(c.value for c in prefs.channels),
        "digest": prefs.digest,
        "quiet_start": prefs.quiet_start,
        "quiet_end": prefs.quiet_end,
        "locale": prefs.locale,
        "webhook_url": prefs.webhook_url,
        "updated_at": at,
    }
    stmt = insert(NotificationPreferenceRow).values(**values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[NotificationPreferenceRow.official_id],
            set_={k: stmt.excluded[k] for k in values if k != "official_id"},
        )
    )
