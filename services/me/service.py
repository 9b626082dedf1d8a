"""The caller: who the token names with the roles the database gives them, and their in-app notifications (written
by the notification outbox; the queries are notify.inbox's). Never commits: the request owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from notify import inbox
from services.access import Principal
from services.me.schemas import MarkReadOut, MeOut, NotificationsOut, ScopeOut


def me(principal: Principal) -> MeOut:
    return MeOut(
        official_id=principal.official_id,
        full_name=principal.full_name,
        roles=[
            ScopeOut(role=s.role.value, province_code=s.province_code, unit_code=s.unit_code) for s in principal.scopes
        ],
    )


async def notifications(session: AsyncSession, principal: Principal, *, unread: bool, limit: int) -> NotificationsOut:
    """The caller's notifications, newest first (only those not read yet, when `unread`), and how many are unread."""
    items = await inbox.list_notifications(session, principal.official_id, unread_only=unread, limit=limit)
    return NotificationsOut(unread=await inbox.count_unread(session, principal.official_id), items=items)


async def mark_read(session: AsyncSession, principal: Principal, ids: Sequence[str], *, at: datetime) -> MarkReadOut:
    """Mark the caller's own notifications read (others' ids are ignored)."""
    marked = await inbox.mark_read(session, principal.official_id, ids, at=at)
    return MarkReadOut(marked=marked, unread=await inbox.count_unread(session, principal.official_id))
