"""Leaves and deputies (services/officials/absences.py): an administrator of the province records a leave naming a
deputy who holds the same task roles over the same units throughout; every bad field is refused naming it and
changes nothing; others are refused every write. During the leave, notifications meant for the absent official
(by role or by name) reach the deputy (notify/recipients.py), the deputy's deputy when both are away, and no one
around a loop; ending a leave early moves its last day, and one not yet begun is cancelled; each change is a row of
the directory journal naming both."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import DirectoryEventRow
from domain.stages import Role
from notify.events import NotificationKind, OutboxEvent, Recipients
from notify.recipients import Leave, resolve_recipients_many, stand_in
from services.access import Principal
from services.errors import Refusal
from services.officials import absences, service
from services.officials.absences import AbsenceRequest, EndAbsenceRequest
from services.officials.schemas import NewOfficialRequest
from tests.officials.support import (
    ADMIN,
    AUDITOR,
    FIRST_UNIT,
    NOW,
    OFFICER,
    OTHER_ADMIN,
    PROVINCE,
    TODAY,
    UNITS,
    principal,
    seed_directory,
    snapshot,
)

Sessions = async_sessionmaker[AsyncSession]
DEPUTY = "hy-thay"
SECOND = "hy-thay-2"
ELSEWHERE = "hy-xa-khac"  # a commune officer of another unit: not a deputy for the first


async def _as(sessions: Sessions, who: str, work: Callable[[AsyncSession, Principal], Awaitable[Any]]) -> Any:
    p = await principal(sessions, who)
    async with sessions() as session:
        return await work(session, p)


async def _officer(sessions: Sessions, official_id: str, unit: str, **role: Any) -> None:
    req = NewOfficialRequest.model_validate(
        {
            "id": official_id,
            "province": PROVINCE,
            "full_name": "Trần Thị Thay",
            "email": f"{official_id}@hungyen.gov.vn",
            "roles": [{"role": "commune_officer", "unit_code": unit} | role],
        }
    )
    await _as(sessions, ADMIN, lambda s, p: service.create_official(s, p, req, now=NOW))


def leave(**over: Any) -> AbsenceRequest:
    body: dict[str, Any] = {
        "province": PROVINCE,
        "deputy_id": DEPUTY,
        "starts_on": TODAY.isoformat(),
        "ends_on": (TODAY + timedelta(days=9)).isoformat(),
        "reason": "nghỉ phép năm",
    }
    return AbsenceRequest.model_validate(body | over)


def _record(req: AbsenceRequest, official: str = OFFICER) -> Callable[[AsyncSession, Principal], Awaitable[Any]]:
    return lambda s, p: absences.record_absence(s, p, official, req, now=NOW)


def _event(day: date, **who: Any) -> OutboxEvent:
    return OutboxEvent(
        kind=NotificationKind.TASK_REMINDER,
        dedup_key=f"leave:{day}:{sorted(who.items())}",
        recipients=Recipients(province_code=PROVINCE, **who),
        occurred_at=NOW + (day - TODAY),
        province_code=PROVINCE,
        unit_code=FIRST_UNIT,
        context={},
    )


async def _reached(sessions: Sessions, day: date, **who: Any) -> list[str]:
    async with sessions() as session:
        return [r.official_id for r in (await resolve_recipients_many(session, [_event(day, **who)]))[0]]


def test_stand_in_follows_deputies_and_stops_at_a_loop() -> None:
    d = TODAY
    leaves = [
        Leave("a", "b", d, d),
        Leave("b", "c", d, d + timedelta(days=1)),
        Leave("x", "y", d, d),
        Leave("y", "x", d, d),
    ]
    assert stand_in("a", d, leaves) == "c"  # a's deputy b is away too
    assert stand_in("a", d + timedelta(days=1), leaves) == "a"  # a is back; b still away
    assert stand_in("b", d + timedelta(days=1), leaves) == "c"
    assert stand_in("x", d, leaves) is None and stand_in("z", d, leaves) == "z"


@pytest.mark.parametrize(
    ("over", "code", "field"),
    [
        ({"deputy_id": OFFICER}, "deputy_is_official", "deputy_id"),
        ({"deputy_id": "hy-khong-co"}, "deputy_unknown", "deputy_id"),
        ({"deputy_id": ELSEWHERE}, "deputy_lacks_role", "deputy_id"),
        ({"deputy_id": f"demo-appraiser-{PROVINCE}"}, "deputy_lacks_role", "deputy_id"),
        ({"ends_on": (TODAY - timedelta(days=1)).isoformat()}, "invalid_days", "ends_on"),
        (
            {"starts_on": (TODAY - timedelta(days=9)).isoformat(), "ends_on": (TODAY - timedelta(days=2)).isoformat()},
            "leave_past",
            "ends_on",
        ),
        ({"ends_on": (TODAY + timedelta(days=366)).isoformat()}, "leave_too_long", "ends_on"),
        ({"deputy_id": "hy-thay-muon"}, "deputy_lacks_role", "deputy_id"),  # holds the role from the 5th day only
    ],
)
async def test_a_bad_leave_is_refused_naming_the_field_and_changes_nothing(
    sessions: Sessions, over: dict[str, Any], code: str, field: str
) -> None:
    await seed_directory(sessions)
    await _officer(sessions, ELSEWHERE, UNITS[1])
    await _officer(sessions, "hy-thay-muon", FIRST_UNIT, valid_from=(TODAY + timedelta(days=4)).isoformat())
    before = await snapshot(sessions)
    with pytest.raises(Refusal) as refused:
        await _as(sessions, ADMIN, _record(leave(**over)))
    assert (refused.value.code, refused.value.extra["field"]) == (code, field), refused.value.detail
    assert await snapshot(sessions) == before


async def test_only_the_provinces_administrators_record_or_end_a_leave(sessions: Sessions) -> None:
    await seed_directory(sessions)
    await _officer(sessions, DEPUTY, FIRST_UNIT)
    before = await snapshot(sessions)
    for who, status in ((OTHER_ADMIN, 403), (AUDITOR, 403), (OFFICER, 403), (DEPUTY, 403)):
        with pytest.raises(Refusal) as refused:
            await _as(sessions, who, _record(leave()))
        assert refused.value.status == status, who
    nobody = leave(province="01")  # the other province's admin, over the official's own province's code elsewhere
    with pytest.raises(Refusal) as refused:
        await _as(sessions, OTHER_ADMIN, _record(nobody))
    assert refused.value.status == 404  # an official outside their provinces is answered as absent
    assert await snapshot(sessions) == before
    recorded = await _as(sessions, ADMIN, _record(leave()))
    for who in (OTHER_ADMIN, AUDITOR, OFFICER):
        with pytest.raises(Refusal) as refused:
            await _as(
                sessions,
                who,
                lambda s, p: absences.end_absence(s, p, OFFICER, recorded.id, EndAbsenceRequest(), now=NOW),
            )
        assert refused.value.status in (403, 404), who
    seen = await _as(sessions, AUDITOR, lambda s, p: absences.list_absences(s, p, OFFICER, now=NOW))
    assert [(a.id, a.deputy_id, a.in_force) for a in seen] == [(recorded.id, DEPUTY, True)]


async def test_during_a_leave_the_deputy_is_told_instead_and_the_journal_names_both(sessions: Sessions) -> None:
    await seed_directory(sessions)
    await _officer(sessions, DEPUTY, FIRST_UNIT)
    await _officer(sessions, SECOND, FIRST_UNIT)
    by_role = {"roles": (Role.COMMUNE_OFFICER,), "unit_code": FIRST_UNIT}
    assert await _reached(sessions, TODAY, **by_role) == [OFFICER, DEPUTY, SECOND]

    later = TODAY + timedelta(days=2)
    recorded = await _as(sessions, ADMIN, _record(leave(starts_on=later.isoformat())))
    assert (recorded.in_force, recorded.reassigned, recorded.left_open) == (False, [], [])
    assert await _reached(sessions, TODAY, official_ids=(OFFICER,)) == [OFFICER]  # not yet begun
    assert await _reached(sessions, later, official_ids=(OFFICER,)) == [DEPUTY]
    assert await _reached(sessions, later, **by_role) == [DEPUTY, SECOND]
    last = TODAY + timedelta(days=9)  # the request keeps its last day
    assert await _reached(sessions, last, official_ids=(OFFICER,)) == [DEPUTY]
    assert await _reached(sessions, last + timedelta(days=1), official_ids=(OFFICER,)) == [OFFICER]

    with pytest.raises(Refusal) as overlap:
        await _as(sessions, ADMIN, _record(leave(deputy_id=SECOND)))
    assert (overlap.value.status, overlap.value.code, overlap.value.extra["field"]) == (
        409,
        "absence_overlaps",
        "starts_on",
    )
    with pytest.raises(Refusal) as away:
        await _as(sessions, ADMIN, _record(leave(deputy_id=OFFICER, starts_on=later.isoformat()), official=DEPUTY))
    assert (away.value.code, away.value.extra["field"]) == ("deputy_absent", "deputy_id")

    # the deputy goes away too (recorded after): the officer's news goes on to the deputy's deputy
    second = leave(deputy_id=SECOND, starts_on=(later + timedelta(days=1)).isoformat())
    await _as(sessions, ADMIN, _record(second, official=DEPUTY))
    assert await _reached(sessions, later + timedelta(days=1), official_ids=(OFFICER,)) == [SECOND]

    early = EndAbsenceRequest(ends_on=later + timedelta(days=3), reason="đi làm sớm")
    ended = await _as(sessions, ADMIN, lambda s, p: absences.end_absence(s, p, OFFICER, recorded.id, early, now=NOW))
    assert (ended.ends_on, ended.cancelled) == (later + timedelta(days=3), False)
    assert await _reached(sessions, later + timedelta(days=4), official_ids=(OFFICER,)) == [OFFICER]
    with pytest.raises(Refusal) as again:
        await _as(sessions, ADMIN, lambda s, p: absences.end_absence(s, p, OFFICER, recorded.id, early, now=NOW))
    assert again.value.code == "absence_already_ends"
    called_off = await _as(
        sessions, ADMIN, lambda s, p: absences.end_absence(s, p, OFFICER, recorded.id, EndAbsenceRequest(), now=NOW)
    )
    assert called_off.cancelled  # not begun yet: cancelled
    assert await _reached(sessions, later, official_ids=(OFFICER,)) == [OFFICER]

    async with sessions() as session:
        rows = list(
            await session.scalars(
                select(DirectoryEventRow)
                .where(DirectoryEventRow.action.like("absence_%"))
                .order_by(DirectoryEventRow.seq)
            )
        )
    assert [(r.action, r.official_id, r.after["deputy_id"], r.actor_id) for r in rows] == [
        ("absence_recorded", OFFICER, DEPUTY, ADMIN),
        ("absence_recorded", DEPUTY, SECOND, ADMIN),
        ("absence_ended", OFFICER, DEPUTY, ADMIN),
        ("absence_cancelled", OFFICER, DEPUTY, ADMIN),
    ]
    assert rows[2].before["ends_on"] == last.isoformat() and rows[2].reason == "đi làm sớm"
    verified = await _as(sessions, AUDITOR, lambda s, p: service.verify(s, p, PROVINCE))
    assert verified.ok
