"""A role assignment gives its role only between its days: access (services/access.principal_of) and the holders a
notification goes to (notify/outbox.py) leave out an assignment not yet begun or already ended."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import RoleAssignmentRow
from domain.calendar import local_date
from domain.stages import Role
from notify.events import NotificationKind, OutboxEvent, Recipients
from notify.recipients import resolve_recipients, resolve_recipients_many
from tests.officials.support import ADMIN, AUDITOR, PROVINCE, principal, seed_directory

Sessions = async_sessionmaker[AsyncSession]


def _event(at: datetime) -> OutboxEvent:
    return OutboxEvent(
        kind=NotificationKind.ROUND_OPENED,
        dedup_key=f"validity:{at.isoformat()}",
        recipients=Recipients(roles=(Role.ADMIN,), province_code=PROVINCE),
        occurred_at=at,
        province_code=PROVINCE,
        context={},
    )


async def _set_days(sessions: Sessions, official_id: str, **days: object) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            update(RoleAssignmentRow).where(RoleAssignmentRow.official_id == official_id).values(**days)
        )


async def test_an_ended_or_future_assignment_gives_no_role_and_no_mail(sessions: Sessions) -> None:
    await seed_directory(sessions)
    now = datetime.now(UTC)
    today = local_date(now)
    assert [s.role for s in (await principal(sessions, ADMIN)).scopes] == [Role.ADMIN]

    await _set_days(sessions, ADMIN, valid_until=today - timedelta(days=1))
    assert (await principal(sessions, ADMIN)).scopes == ()
    async with sessions() as session:
        assert ADMIN not in [r.official_id for r in await resolve_recipients(session, _event(now))]
        earlier = now - timedelta(days=3)  # a transition of three days ago: the role still held then
        many = await resolve_recipients_many(session, [_event(now), _event(earlier)])
    assert ADMIN not in [r.official_id for r in many[0]] and ADMIN in [r.official_id for r in many[1]]

    await _set_days(sessions, ADMIN, valid_from=today + timedelta(days=1), valid_until=None)
    assert (await principal(sessions, ADMIN)).scopes == ()
    await _set_days(sessions, ADMIN, valid_from=today, valid_until=today)
    assert [s.role for s in (await principal(sessions, ADMIN)).scopes] == [Role.ADMIN]
    assert [s.role for s in (await principal(sessions, AUDITOR)).scopes] == [Role.AUDITOR]  # untouched
