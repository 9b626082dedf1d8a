"""Who may act on what: a role held within a unit or a whole province."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from domain.stages import Role


class RoleScope(BaseModel):
    """A role assignment: within one unit (`unit_code`) or, when it is None, the whole province."""

    model_config = ConfigDict(frozen=True)

    role: Role
    province_code: str
    unit_code: str | None = None

    def covers(self, unit_code: str, province_code: str) -> bool:
        if self.province_code != province_code:
            return False
        return self.unit_code is None or self.unit_code == unit_code


def may_act(scopes: Iterable[RoleScope], role: Role, unit_code: str, province_code: str) -> bool:
    """True when one assignment gives `role` over the unit."""
    return any(s.role == role and s.covers(unit_code, province_code) for s in scopes)


def may_read(scopes: Iterable[RoleScope], unit_code: str, province_code: str) -> bool:
    """Any role over the unit lets its holder read the case."""
    return any(s.covers(unit_code, province_code) for s in scopes)
