"""The policy's rules, pure: who reads a unit, who completes a task of a role, who administers and oversees."""

from __future__ import annotations

import pytest

from domain.access import RoleScope
from domain.stages import Role
from services.access import Principal, can_read, require_admin, require_complete, require_oversight
from services.errors import Refusal

UNIT, OTHER_UNIT, PROVINCE, OTHER_PROVINCE = "11953", "11977", "33", "12"


def official(role: Role, unit: str | None = None, province: str = PROVINCE) -> Principal:
    return Principal(
        official_id=f"{role.value}-{unit}",
        full_name="x",
        scopes=(RoleScope(role=role, province_code=province, unit_code=unit),),
    )


def completes(p: Principal, task_role: Role, unit: str = UNIT, province: str = PROVINCE) -> bool:
    try:
        require_complete(p, task_role.value, unit, province, task_id="t")
    except Refusal as exc:
        assert exc.status == 403 and exc.detail
        return False
    return True


@pytest.mark.parametrize("task_role", list(Role))
def test_a_task_is_completed_only_by_its_role_over_its_unit(task_role: Role) -> None:
    for holder in Role:
        scoped = official(
            holder, UNIT if holder in (Role.COMMUNE_OFFICER, Role.COUNCIL_CHAIR, Role.COMMUNE_CHAIRMAN) else None
        )
        expected = holder == task_role and holder != Role.AUDITOR
        assert completes(scoped, task_role) is expected, (holder, task_role)
        assert completes(scoped, task_role, unit=OTHER_UNIT) is (expected and scoped.scopes[0].unit_code is None)
        assert completes(scoped, task_role, province=OTHER_PROVINCE) is False


def test_reading_follows_the_scope_whatever_the_role() -> None:
    for role in Role:
        assert can_read(official(role, UNIT), UNIT, PROVINCE)
        assert not can_read(official(role, UNIT), OTHER_UNIT, PROVINCE)
        assert can_read(official(role), OTHER_UNIT, PROVINCE)
        assert not can_read(official(role), UNIT, OTHER_PROVINCE)


def test_administering_takes_a_province_wide_admin_and_oversight_an_admin_or_auditor() -> None:
    assert require_admin(official(Role.ADMIN)) == {PROVINCE}
    assert require_admin(official(Role.ADMIN), PROVINCE) == {PROVINCE}
    for refused, province in [
        (official(Role.ADMIN), OTHER_PROVINCE),
        (official(Role.ADMIN, UNIT), None),  # an admin of one unit administers no province
        (official(Role.AUDITOR), None),
        (official(Role.CHAIRMAN), None),
    ]:
        with pytest.raises(Refusal) as info:
            require_admin(refused, province)
        assert info.value.status == 403
    assert require_oversight(official(Role.AUDITOR)) == {PROVINCE}
    with pytest.raises(Refusal):
        require_oversight(official(Role.APPRAISER))
