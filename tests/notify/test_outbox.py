"""The outbox on real PostgreSQL: rows written with the transition they announce, once, to the right people and
channels; in-app read/unread; preferences; the failed list of a province."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.case_store import CaseStore
from contracts import RecordTransitionInput
from db.models import OfficialRow, RoleAssignmentRow, UnitRow
from db.models_notify import NotificationRow
from domain.stages import Role
from notify.events import Channel, NotificationKind, OutboxEvent, Recipients, outbox_id
from notify.inbox import (
    count_unread,
    failed_notifications,
    get_preferences,
    list_notifications,
    mark_read,
    set_preferences,
)
from notify.outbox import enqueue, enqueue_many
from notify.preferences import Preferences
from tests.builders import case_opened
from tests.notify.support import outbox_event, rows
from tests.support import PROVINCE, ROUND_ID, isolated_unit, seed

T0 = datetime(2027, 10, 1, 2, 0, tzinfo=UTC)


def opened(unit: str) -> RecordTransitionInput:
    return case_opened(unit, T0, due_at=T0 + timedelta(days=9))


def event(unit: str, key: str = "k1", **kw: Any) -> OutboxEvent:
    """A reminder about the unit's case at T0, to its commune officers unless `recipients` says otherwise."""
    return outbox_event(unit, key, kw.pop("occurred_at", T0), kind=kw.pop("kind", NotificationKind.TASK_REMINDER), **kw)


async def add_commune_officers(
    sessions: async_sessionmaker[AsyncSession], unit: str, elsewhere: dict[str, tuple[str, str | None]]
) -> None:
    """Commune officers besides the unit's own: `prov-officer` over all of PROVINCE, `gone-officer` of the unit, who
    is no longer active, and one of each `elsewhere` entry (official id: its province and unit)."""
    async with sessions() as session, session.begin():
        session.add_all(
            [
                OfficialRow(id="prov-officer", full_name="Cán bộ tỉnh", email="prov@example.invalid"),
                OfficialRow(id="gone-officer", full_name="Đã nghỉ", email="gone@example.invalid", active=False),
                *(OfficialRow(id=o, full_name="Nơi khác", email=f"{o}@example.invalid") for o in elsewhere),
            ]
        )
        await session.flush()
        scopes = {"prov-officer": (PROVINCE, None), "gone-officer": (PROVINCE, unit), **elsewhere}
        session.add_all(
            RoleAssignmentRow(official_id=o, role="commune_officer", province_code=p, unit_code=u)
            for o, (p, u) in scopes.items()
        )


@pytest.fixture
async def unit(sessions: async_sessionmaker[AsyncSession]) -> str:
    """A unit of PROVINCE with its demo officials, and the round of its cases."""
    code, _ = await seed(sessions, isolated_unit())
    return code


async def test_recording_a_transition_writes_its_notifications_once_and_returns_the_same_ids(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    unit, officials = await seed(sessions, isolated_unit())
    officer = next(o for o in officials if o.role == Role.COMMUNE_OFFICER)
    store = CaseStore(sessions)
    env = ActivityEnvironment()
    first = await env.run(store.record_transition, opened(unit))
    again = await env.run(store.record_transition, opened(unit))
    key = f"case:{ROUND_ID}-{unit}:1:task_assigned"
    assert first.outbox_ids == again.outbox_ids == (outbox_id(key, officer.id, Channel.EMAIL),)
    written = await rows(sessions)
    assert sorted((r.official_id, r.channel, r.status) for r in written) == [
        (officer.id, "email", "pending"),
        (officer.id, "in_app", "delivered"),
    ]
    email = next(r for r in written if r.channel == "email")
    assert email.address == f"{officer.id}@example.invalid"
    assert email.subject.startswith("[xptt] Nhiệm vụ mới: Đăng ký phấn đấu - ")
    assert email.subject.endswith(", hạn 10/10/2027 09:00")  # due 02:00 UTC, shown in Vietnam time
    assert email.created_at == T0 and email.deliver_after == T0
    assert email.link and email.link.endswith(f"/web/tasks/{ROUND_ID}-{unit}-t01")  # the page, not the API
    assert email.link in email.body and "kỳ đánh giá năm 2027" in email.body


async def test_recipients_by_role_cover_unit_and_province_scopes_and_skip_inactive_officials(
    sessions: async_sessionmaker[AsyncSession], unit: str
) -> None:
    await add_commune_officers(sessions, unit, {"other-unit": ("01", None)})
    async with sessions() as session, session.begin():
        ids = await enqueue(session, event(unit))
    emails = await rows(sessions, channel="email")
    assert sorted(r.official_id for r in emails) == sorted([f"demo-officer-{unit}", "prov-officer"])
    assert sorted(ids) == sorted(r.id for r in emails)


async def test_many_events_at_once_write_what_one_at_a_time_writes(
    sessions: async_sessionmaker[AsyncSession], unit: str
) -> None:
    other = "40001"
    async with sessions() as session, session.begin():
        await session.execute(
            insert(UnitRow).values(
                code=other, name="Xã Thử Nghiệm", division_type="xã", province_code=PROVINCE, locality_type="other"
            )
        )
    await add_commune_officers(sessions, unit, {"far-officer": ("01", None), "other-officer": (PROVINCE, other)})
    whole_province = Recipients(roles=(Role.COMMUNE_OFFICER, Role.ADMIN), province_code=PROVINCE)
    named = Recipients(official_ids=(f"demo-admin-{PROVINCE}", "gone-officer", "nobody"))

    def events(prefix: str) -> list[OutboxEvent]:
        return [
            event(unit, f"{prefix}:1"),
            event(other, f"{prefix}:2"),
            event(unit, f"{prefix}:3", recipients=whole_province),
            event(other, f"{prefix}:4", recipients=named, kind=NotificationKind.TASK_ESCALATED),
        ]

    one_by_one: list[list[str]] = []
    async with sessions() as session, session.begin():
        for e in events("one"):
            one_by_one.append(await enqueue(session, e))
    async with sessions() as session, session.begin():
        together = await enqueue_many(session, events("many"))

    written = await rows(sessions)

    def shape(prefix: str) -> list[tuple[object, ...]]:
        return sorted(
            (r.dedup_key.split(":")[1], r.official_id, r.channel, r.status, r.address, r.subject, r.body, r.kind)
            for r in written
            if r.dedup_key.startswith(prefix + ":")
        )

    assert shape("many") == shape("one")
    assert len(shape("one")) >= 8  # every scope above reached somebody
    by_id = {r.id: r for r in written}
    assert [[(by_id[i].dedup_key.split(":")[1], by_id[i].official_id) for i in ids] for ids in together] == [
        [(by_id[i].dedup_key.split(":")[1], by_id[i].official_id) for i in ids] for ids in one_by_one
    ]
    assert {r.official_id for r in written} & {"gone-officer", "far-officer", "nobody"} == set()


async def test_named_officials_receive_without_a_role(sessions: async_sessionmaker[AsyncSession], unit: str) -> None:
    async with sessions() as session, session.begin():
        await enqueue(session, event(unit, recipients=Recipients(official_ids=(f"demo-admin-{PROVINCE}",))))
    assert {r.official_id for r in await rows(sessions)} == {f"demo-admin-{PROVINCE}"}


async def test_preferences_choose_channels_digest_language_and_quiet_hours(
    sessions: async_sessionmaker[AsyncSession], unit: str
) -> None:
    officer = f"demo-officer-{unit}"
    async with sessions() as session, session.begin():
        await set_preferences(
            session,
            officer,
            Preferences(
                channels=frozenset({Channel.EMAIL, Channel.WEBHOOK}),
                digest=True,
                quiet_start=time(8),
                quiet_end=time(9, 30),
                locale="en",
                webhook_url="https://hooks.example.invalid/xptt",
            ),
            at=T0,
        )
    async with sessions() as session:
        prefs = await get_preferences(session, officer)
    assert prefs.digest and prefs.locale == "en" and prefs.quiet_end == time(9, 30)
    async with sessions() as session, session.begin():
        ids = await enqueue(session, event(unit))  # T0 = 09:00 local: inside the quiet hours
    by_channel = {r.channel: r for r in await rows(sessions)}
    assert set(by_channel) == {"email", "webhook"}
    assert by_channel["email"].status == "held"  # waits for the digest
    assert by_channel["webhook"].status == "pending"
    assert by_channel["webhook"].deliver_after == datetime(2027, 10, 1, 2, 30, tzinfo=UTC)  # 09:30 local
    assert by_channel["webhook"].subject.startswith("[xptt] Reminder")
    assert ids == [by_channel["webhook"].id]


async def test_a_webhook_without_any_url_is_skipped_not_failed(
    sessions: async_sessionmaker[AsyncSession], unit: str
) -> None:
    async with sessions() as session, session.begin():
        await set_preferences(
            session, f"demo-officer-{unit}", Preferences(channels=frozenset({Channel.WEBHOOK})), at=T0
        )
        ids = await enqueue(session, event(unit), default_webhook_url="")
    assert ids == [] and await rows(sessions) == []


async def test_in_app_notifications_are_listed_newest_first_and_marked_read_by_their_owner_only(
    sessions: async_sessionmaker[AsyncSession], unit: str
) -> None:
    officer = f"demo-officer-{unit}"
    async with sessions() as session, session.begin():
        for n in range(3):
            await enqueue(session, event(unit, key=f"k{n}", occurred_at=T0 + timedelta(hours=n)))
    async with sessions() as session:
        listed = await list_notifications(session, officer, unread_only=True, limit=10)
        assert len(listed) == 3 and listed[0].created_at > listed[-1].created_at
        assert await count_unread(session, officer) == 3
    async with sessions() as session, session.begin():
        assert await mark_read(session, "someone-else", [listed[0].id]) == []
        assert await mark_read(session, officer, [listed[0].id]) == [listed[0].id]
        assert await mark_read(session, officer, [listed[0].id]) == []  # twice: nothing more
    async with sessions() as session:
        unread = await list_notifications(session, officer, unread_only=True)
        everything = await list_notifications(session, officer, limit=2)
    assert [n.id for n in unread] == [n.id for n in listed[1:]]
    assert len(everything) == 2


async def test_failed_notifications_are_listed_by_province(
    sessions: async_sessionmaker[AsyncSession], unit: str
) -> None:
    async with sessions() as session, session.begin():
        [oid] = await enqueue(session, event(unit))
        row = await session.get(NotificationRow, oid)
        assert row is not None
        row.status, row.failed_at, row.last_error = "failed", T0, "smtp_recipient_refused: 550"
    async with sessions() as session:
        failed = await failed_notifications(session, PROVINCE)
        elsewhere = await failed_notifications(session, "01")
        total = await session.scalar(select(func.count()).select_from(NotificationRow))
    assert [(f.id, f.last_error) for f in failed] == [(oid, "smtp_recipient_refused: 550")]
    assert elsewhere == [] and total == 2


async def test_notifications_are_written_with_the_transition_or_not_at_all(
    sessions: async_sessionmaker[AsyncSession], unit: str
) -> None:
    store = CaseStore(sessions)
    good = opened(unit)
    broken = good.model_copy(update={"case": good.case.model_copy(update={"round_id": "no-such-round"})})
    with pytest.raises(IntegrityError):  # the case row cannot be written: its round does not exist
        await ActivityEnvironment().run(store.record_transition, broken)
    assert await rows(sessions) == []

    class Abort(Exception):
        pass

    with pytest.raises(Abort):  # enqueue never commits on its own: a transaction that fails later takes it along
        async with sessions() as session, session.begin():
            assert await enqueue(session, event(unit))
            raise Abort
    assert await rows(sessions) == []
