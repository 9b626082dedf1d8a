"""The directory's service: administrators of the province create, change and deactivate officials and give and end
their roles, each change journalled; every bad field is refused naming it, and changes nothing; administrators of
another province, commune officers and auditors are refused every write (403, or 404 for an official they cannot
see), and nothing changes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import DirectoryEventRow
from services.access import Principal, principal_of
from services.errors import Refusal
from services.officials import service
from services.officials.importer import import_officials
from services.officials.schemas import (
    EndRoleRequest,
    NewOfficialRequest,
    OfficialOut,
    OfficialPatch,
    RoleRequest,
)
from tests.officials.support import (
    ADMIN,
    AUDITOR,
    FIRST_UNIT,
    NOW,
    OFFICER,
    OTHER_ADMIN,
    OTHER_UNIT,
    PROVINCE,
    TODAY,
    UNITS,
    good_rows,
    principal,
    seed_directory,
    snapshot,
    to_csv,
)

Sessions = async_sessionmaker[AsyncSession]


def new_official(**over: Any) -> NewOfficialRequest:
    body: dict[str, Any] = {
        "id": "hy-moi",
        "province": PROVINCE,
        "full_name": "Trần Thị Mới",
        "position_title": "Công chức Văn hóa - Xã hội",
        "email": "moi@hungyen.gov.vn",
        "phone": "+84 912 000 111",
        "roles": [{"role": "commune_officer", "unit_code": UNITS[2], "valid_from": "2026-01-01"}],
    }
    return NewOfficialRequest.model_validate(body | over)


async def _as(sessions: Sessions, who: str, work: Callable[[AsyncSession, Principal], Awaitable[Any]]) -> Any:
    p = await principal(sessions, who)
    async with sessions() as session:
        return await work(session, p)


async def _journal(sessions: Sessions) -> list[DirectoryEventRow]:
    async with sessions() as session:
        return list(await session.scalars(select(DirectoryEventRow).order_by(DirectoryEventRow.id)))


async def test_create_change_deactivate_and_roles_are_journalled(sessions: Sessions) -> None:
    await seed_directory(sessions)
    created: OfficialOut = await _as(
        sessions, ADMIN, lambda s, p: service.create_official(s, p, new_official(), now=NOW)
    )
    assert (created.phone, created.locale, created.active, created.created_by) == ("0912000111", "vi", True, ADMIN)
    assert [(r.role, r.unit_code, r.valid_from, r.current) for r in created.roles] == [
        ("commune_officer", UNITS[2], date(2026, 1, 1), True)
    ]

    patch = OfficialPatch(phone="0988 111 222", position_title=None, reason="đổi số")
    changed = await _as(sessions, ADMIN, lambda s, p: service.update_official(s, p, "hy-moi", patch, now=NOW))
    assert (changed.phone, changed.position_title, changed.updated_by) == ("0988111222", None, ADMIN)
    same = OfficialPatch(phone="+84988111222")  # the same number written otherwise: nothing changes
    await _as(sessions, ADMIN, lambda s, p: service.update_official(s, p, "hy-moi", same, now=NOW))

    council = RoleRequest(province=PROVINCE, role="Chủ tịch Hội đồng đánh giá", unit_code=UNITS[2])
    held = await _as(sessions, ADMIN, lambda s, p: service.add_role(s, p, "hy-moi", council, now=NOW))
    assignment = next(r for r in held.roles if r.role == "council_chair")
    with pytest.raises(Refusal) as again:
        await _as(sessions, ADMIN, lambda s, p: service.add_role(s, p, "hy-moi", council, now=NOW))
    assert (again.value.status, again.value.code) == (409, "role_already_held")

    end = EndRoleRequest(reason="hết nhiệm kỳ")
    ended = await _as(sessions, ADMIN, lambda s, p: service.end_role(s, p, "hy-moi", assignment.id, end, now=NOW))
    finished = next(r for r in ended.roles if r.id == assignment.id)
    assert (finished.valid_until, finished.current) == (TODAY, True)  # held through its last day
    with pytest.raises(Refusal) as twice:
        await _as(sessions, ADMIN, lambda s, p: service.end_role(s, p, "hy-moi", assignment.id, end, now=NOW))
    assert twice.value.code == "role_already_ended"

    later = NOW + timedelta(days=3)  # ended, the role is given again from a new day
    renewed_from = RoleRequest.model_validate(
        {"province": PROVINCE, "role": "council_chair", "unit_code": UNITS[2], "valid_from": "2026-03-05"}
    )
    renewed = await _as(sessions, ADMIN, lambda s, p: service.add_role(s, p, "hy-moi", renewed_from, now=later))
    again_held = next(r for r in renewed.roles if r.id == assignment.id)
    assert (again_held.valid_from, again_held.valid_until) == (date(2026, 3, 5), None)

    gone = await _as(sessions, ADMIN, lambda s, p: service.deactivate_official(s, p, "hy-moi", "nghỉ hưu", now=NOW))
    assert not gone.active and len(gone.roles) == 2  # kept, with their roles
    async with sessions() as session:
        assert await principal_of(session, "hy-moi") is None  # no longer signs in or acts

    rows = await _journal(sessions)
    assert [(r.seq, r.action, r.actor_id, r.official_id) for r in rows] == [
        (1, "official_created", ADMIN, "hy-moi"),
        (2, "role_assigned", ADMIN, "hy-moi"),
        (3, "official_changed", ADMIN, "hy-moi"),
        (4, "role_assigned", ADMIN, "hy-moi"),
        (5, "role_ended", ADMIN, "hy-moi"),
        (6, "role_assigned", ADMIN, "hy-moi"),
        (7, "official_deactivated", ADMIN, "hy-moi"),
    ]
    assert (rows[2].before, rows[2].after, rows[2].reason) == (
        {"phone": "0912000111", "position_title": "Công chức Văn hóa - Xã hội"},
        {"phone": "0988111222", "position_title": None},
        "đổi số",
    )
    assert rows[4].before["valid_until"] is None and rows[4].after["valid_until"] == TODAY.isoformat()
    assert (rows[6].before, rows[6].after, rows[6].reason) == ({"active": True}, {"active": False}, "nghỉ hưu")
    assert {r.province_code for r in rows} == {PROVINCE}
    verified = await _as(sessions, AUDITOR, lambda s, p: service.verify(s, p, PROVINCE))
    assert verified.ok and verified.rows == 7
    read = await _as(sessions, AUDITOR, lambda s, p: service.journal(s, p, PROVINCE, after_seq=5))
    assert [e.seq for e in read] == [6, 7]


@pytest.mark.parametrize(
    ("over", "status", "code", "field"),
    [
        ({"phone": "0912 34"}, 422, "invalid_phone", "phone"),
        ({"phone": "+1 202 555 0100"}, 422, "invalid_phone", "phone"),
        ({"email": "moi@"}, 422, "invalid_email", "email"),
        ({"email": "demo-admin-33@EXAMPLE.invalid"}, 409, "duplicate_email", "email"),
        ({"locale": "fr"}, 422, "invalid_locale", "locale"),
        ({"full_name": "  "}, 422, "missing_value", "full_name"),
        ({"oidc_issuer": "https://sso.hungyen.gov.vn"}, 422, "oidc_incomplete", "oidc_subject"),
        ({"id": OFFICER}, 409, "official_exists", "id"),
        ({"roles": [{"role": "commune_officer", "unit_code": "99999"}]}, 422, "unknown_unit", "roles.0.unit_code"),
        ({"roles": [{"role": "commune_officer"}]}, 422, "wrong_scope", "roles.0.unit_code"),
        ({"roles": [{"role": "auditor", "unit_code": UNITS[1]}]}, 422, "wrong_scope", "roles.0.unit_code"),
        (
            {"roles": [{"role": "council_chair", "unit_code": OTHER_UNIT}]},
            422,
            "unit_of_other_province",
            "roles.0.unit_code",
        ),
        ({"roles": [{"role": "district_appraiser"}]}, 422, "district_role_ended", "roles.0.role"),
        (
            {"roles": [{"role": "district_chairman", "valid_until": "2025-07-01"}]},
            422,
            "district_role_ended",
            "roles.0.valid_until",
        ),
        ({"roles": [{"role": "kế toán"}]}, 422, "unknown_role", "roles.0.role"),
        (
            {"roles": [{"role": "admin", "valid_from": "2026-05-01", "valid_until": "2026-04-30"}]},
            422,
            "invalid_validity",
            "roles.0.valid_until",
        ),
        ({"roles": [{"role": "admin"}, {"role": "admin"}]}, 422, "duplicate_role", "roles"),
    ],
)
async def test_each_bad_field_is_refused_by_name_and_nothing_changes(
    sessions: Sessions, over: dict[str, Any], status: int, code: str, field: str
) -> None:
    await seed_directory(sessions)
    before = await snapshot(sessions)
    with pytest.raises(Refusal) as refused:
        await _as(sessions, ADMIN, lambda s, p: service.create_official(s, p, new_official(**over), now=NOW))
    assert (refused.value.status, refused.value.code, refused.value.extra.get("field")) == (status, code, field)
    assert refused.value.detail.startswith(f"{field}: ")
    assert await snapshot(sessions) == before


async def test_a_district_role_is_recorded_as_history(sessions: Sessions) -> None:
    await seed_directory(sessions)
    history = [{"role": "district_appraiser", "valid_from": "2020-01-01", "valid_until": "2025-06-30"}]
    out = await _as(sessions, ADMIN, lambda s, p: service.create_official(s, p, new_official(roles=history), now=NOW))
    assert [(r.role, r.unit_code, r.valid_until, r.current) for r in out.roles] == [
        ("district_appraiser", None, date(2025, 6, 30), False)
    ]


async def test_changes_to_an_official_are_checked_as_a_creation_is(sessions: Sessions) -> None:
    await seed_directory(sessions)
    before = await snapshot(sessions)
    for patch, code, field in [
        (OfficialPatch(phone="123"), "invalid_phone", "phone"),
        (OfficialPatch(full_name=None), "missing_value", "full_name"),
        (OfficialPatch(email=f"{ADMIN}@example.invalid"), "duplicate_email", "email"),
        (OfficialPatch(oidc_subject="abc"), "oidc_incomplete", "oidc_issuer"),
    ]:
        with pytest.raises(Refusal) as refused:
            await _as(sessions, ADMIN, lambda s, p, patch=patch: service.update_official(s, p, OFFICER, patch, now=NOW))
        assert (refused.value.code, refused.value.extra.get("field")) == (code, field)
    with pytest.raises(Refusal) as own:
        await _as(sessions, ADMIN, lambda s, p: service.deactivate_official(s, p, ADMIN, "thử", now=NOW))
    assert own.value.code == "own_account"
    mine = await _as(sessions, ADMIN, lambda s, p: service.get_official(s, p, ADMIN, now=NOW))
    with pytest.raises(Refusal) as own_role:
        await _as(
            sessions, ADMIN, lambda s, p: service.end_role(s, p, ADMIN, mine.roles[0].id, EndRoleRequest(), now=NOW)
        )
    assert own_role.value.code == "own_account"
    assert await snapshot(sessions) == before


# Every write, as one who may not make it: (what, the writer) → the status expected.
WRITES: dict[str, Callable[[AsyncSession, Principal], Awaitable[Any]]] = {
    "import": lambda s, p: import_officials(s, p, PROVINCE, to_csv(good_rows()[:3]), apply=True, now=NOW),
    "create": lambda s, p: service.create_official(s, p, new_official(), now=NOW),
    "change": lambda s, p: service.update_official(s, p, OFFICER, OfficialPatch(phone="0912999888"), now=NOW),
    "deactivate": lambda s, p: service.deactivate_official(s, p, OFFICER, "thử", now=NOW),
    "add_role": lambda s, p: service.add_role(
        s, p, OFFICER, RoleRequest(province=PROVINCE, role="council_chair", unit_code=FIRST_UNIT), now=NOW
    ),
    "end_role": lambda s, p: service.end_role(s, p, OFFICER, 1, EndRoleRequest(), now=NOW),
}
# Hà Nội's administrator cannot see Hưng Yên's officials (404) and does not administer the province (403).
EXPECTED = {
    OTHER_ADMIN: {"import": 403, "create": 403, "change": 404, "deactivate": 404, "add_role": 403, "end_role": 404},
    OFFICER: dict.fromkeys(WRITES, 403),
    AUDITOR: dict.fromkeys(WRITES, 403),
}


@pytest.mark.parametrize("writer", list(EXPECTED))
async def test_writers_who_may_not_write_are_refused_every_write_and_nothing_changes(
    sessions: Sessions, writer: str
) -> None:
    await seed_directory(sessions)
    before = await snapshot(sessions)
    got = {}
    for what, work in WRITES.items():
        with pytest.raises(Refusal) as refused:
            await _as(sessions, writer, work)
        got[what] = refused.value.status
    assert got == EXPECTED[writer]
    assert await snapshot(sessions) == before


async def test_reading_the_directory_takes_the_admin_or_auditor_role_of_the_province(sessions: Sessions) -> None:
    await seed_directory(sessions)
    listed = await _as(sessions, AUDITOR, lambda s, p: service.list_officials(s, p, PROVINCE, now=NOW))
    assert {o.id for o in listed} >= {ADMIN, AUDITOR, OFFICER}
    assert all(r.province_code == PROVINCE for o in listed for r in o.roles)
    for who, province in ((OFFICER, PROVINCE), (OTHER_ADMIN, PROVINCE)):
        with pytest.raises(Refusal) as refused:
            await _as(sessions, who, lambda s, p, province=province: service.list_officials(s, p, province, now=NOW))
        assert refused.value.status == 403
    with pytest.raises(Refusal) as hidden:
        await _as(sessions, OTHER_ADMIN, lambda s, p: service.get_official(s, p, OFFICER, now=NOW))
    assert (hidden.value.status, hidden.value.code) == (404, "official_not_found")
    one = await _as(sessions, AUDITOR, lambda s, p: service.get_official(s, p, OFFICER, now=NOW))
    assert one.roles[0].unit_name and one.roles[0].role_name == "Công chức văn hóa - xã hội"
