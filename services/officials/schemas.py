"""What the directory's front doors take and answer: officials with their role assignments, the changes an
administrator asks for, the per-row report of an import, the journal and its verification."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.fields import ID_PATTERN, PROVINCE_PATTERN, UNIT_PATTERN
from services.officials.journal import DirectoryFinding, DirectoryVerification
from services.rounds.schemas import Day

__all__ = [
    "AssignmentOut",
    "DeactivateRequest",
    "DirectoryFinding",
    "DirectoryVerification",
    "EndRoleRequest",
    "ImportReport",
    "JournalEntryOut",
    "NewOfficialRequest",
    "OfficialOut",
    "OfficialPatch",
    "RoleIn",
    "RoleRequest",
    "RowOutcome",
]

Outcome = Literal["create", "change", "unchanged", "refuse"]


class RoleIn(BaseModel):
    """A role to give: over one unit of the province (`unit_code`) or the whole province (no unit)."""

    model_config = ConfigDict(extra="forbid")

    role: str = Field(max_length=200, description="a role code, e.g. commune_officer, or its name")
    unit_code: str | None = Field(default=None, pattern=UNIT_PATTERN, description="empty: the whole province")
    valid_from: Day | None = Field(default=None, description="first day the role is held (YYYY-MM-DD)")
    valid_until: Day | None = Field(default=None, description="last day the role is held; empty: open-ended")


class RoleRequest(RoleIn):
    """A role to give an official, in a province."""

    province: str = Field(pattern=PROVINCE_PATTERN)
    reason: str | None = Field(default=None, max_length=500)


class _Details(BaseModel):
    """An official's details; each is checked by services/officials/rules.py, which names the field it refuses."""

    model_config = ConfigDict(extra="forbid")

    full_name: str | None = Field(default=None, max_length=400)
    position_title: str | None = Field(default=None, max_length=400)
    email: str | None = Field(default=None, max_length=400)
    phone: str | None = Field(
        default=None,
        max_length=80,
        description="10 digits starting 0 (a landline: 11 starting 02), or +84 and the digits after the 0",
    )
    locale: str | None = Field(default=None, max_length=10, description="vi (default) or en")
    oidc_issuer: str | None = Field(default=None, max_length=1000)
    oidc_subject: str | None = Field(default=None, max_length=1000)


class NewOfficialRequest(_Details):
    """A new official of a province, with at least one role there."""

    id: str = Field(pattern=ID_PATTERN, description="the official's code (mã cán bộ), unique")
    province: str = Field(pattern=PROVINCE_PATTERN)
    roles: list[RoleIn] = Field(min_length=1, max_length=50)
    reason: str | None = Field(default=None, max_length=500)


class OfficialPatch(_Details):
    """The details to change; a field left out stays, a field sent as null is cleared (the name cannot be)."""

    reason: str | None = Field(default=None, max_length=500)

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set if name != "reason"}


class EndRoleRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    valid_until: Day | None = Field(default=None, description="last day the role is held; default today in Vietnam")
    reason: str | None = Field(default=None, max_length=500)


class DeactivateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500)


class AssignmentOut(BaseModel):
    id: int
    role: str
    role_name: str = Field(description="the role as people read it (Vietnamese)")
    province_code: str
    unit_code: str | None
    unit_name: str | None
    valid_from: date | None
    valid_until: date | None
    current: bool = Field(description="held today in Vietnam")


class OfficialOut(BaseModel):
    id: str
    full_name: str
    position_title: str | None
    email: str | None
    phone: str | None
    locale: str
    active: bool
    oidc_issuer: str | None
    oidc_subject: str | None
    created_at: datetime
    updated_at: datetime
    created_by: str | None
    updated_by: str | None
    roles: list[AssignmentOut]


class RowOutcome(BaseModel):
    """What an import does with one row of the file (`row`: its line, the header being line 1)."""

    row: int
    official_id: str | None
    full_name: str | None
    role: str | None
    unit_code: str | None
    outcome: Outcome
    changes: list[str] = Field(default_factory=list, description="the fields a `change` changes")
    code: str | None = Field(default=None, description="why a row is refused, e.g. unknown_unit, duplicate_email")
    field: str | None = Field(default=None, description="the column at fault")
    value: str | None = Field(default=None, description="the cell at fault, as the file has it")
    detail: str | None = None


class ImportReport(BaseModel):
    province: str
    format: Literal["csv", "xlsx"]
    file_sha256: str
    apply: bool = Field(description="asked to apply (false: a dry run)")
    applied: bool = Field(description="written: asked to apply and no row refused")
    rows: int
    created: int
    changed: int
    unchanged: int
    refused: int
    journal_rows: int = Field(description="directory journal rows written")
    outcomes: list[RowOutcome]


class JournalEntryOut(BaseModel):
    province_code: str
    seq: int
    action: str
    actor_id: str | None
    official_id: str | None
    assignment_id: int | None
    payload: dict[str, Any]
    before: dict[str, Any]
    after: dict[str, Any]
    reason: str | None
    occurred_at: datetime
    prev_hash: str
    hash: str
