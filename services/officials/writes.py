"""Writing the directory: every change to an official or an assignment goes through `DirectoryWriter`, which
journals it (who, what, before and after) in the same transaction. The service and the import both write here.

The journal rows are composed once the changes are flushed (a new assignment's id is known then), in the order the
changes were made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import OfficialRow, RoleAssignmentRow
from services.officials.journal import DirectoryJournal
from services.officials.rules import OFFICIAL_FIELDS, AssignmentValues, OfficialValues, day_text


def official_snapshot(row: OfficialRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in OFFICIAL_FIELDS}


def assignment_snapshot(row: RoleAssignmentRow) -> dict[str, Any]:
    return {
        "role": row.role,
        "province_code": row.province_code,
        "unit_code": row.unit_code,
        "valid_from": day_text(row.valid_from),
        "valid_until": day_text(row.valid_until),
    }


def details_changed(row: OfficialRow, values: OfficialValues) -> dict[str, Any]:
    """The details `values` would change of the official, with their new values."""
    now = official_snapshot(row)
    return {name: value for name, value in values.snapshot().items() if now[name] != value}


class DirectoryWriter:
    """Changes made in one transaction by one actor at one time; `finish` flushes them and appends the journal."""

    def __init__(self, session: AsyncSession, *, actor_id: str | None, now: datetime) -> None:
        self.session = session
        self.actor_id = actor_id
        self.now = now
        self.journal = DirectoryJournal(session, actor_id=actor_id, now=now)
        self._entries: list[Callable[[], None]] = []

    async def lock(self, provinces: Iterable[str]) -> None:
        await self.journal.lock(provinces)

    def create_official(
        self, official_id: str, values: OfficialValues, *, province_code: str, payload: dict[str, Any] | None = None
    ) -> OfficialRow:
        row = OfficialRow(
            id=official_id,
            **values.snapshot(),
            active=True,
            created_at=self.now,
            updated_at=self.now,
            created_by=self.actor_id,
            updated_by=self.actor_id,
        )
        self.session.add(row)
        self._entries.append(
            lambda: self.journal.add(
                province_code,
                "official_created",
                official_id=official_id,
                after={**values.snapshot(), "active": True},
                payload=payload,
            )
        )
        return row

    def change_official(
        self,
        row: OfficialRow,
        changes: dict[str, Any],
        *,
        provinces: Iterable[str],
        action: str = "official_changed",
        reason: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        """Set `changes` (field → new value) on the official; journalled in each province they serve."""
        before = {name: getattr(row, name) for name in changes}
        for name, value in changes.items():
            setattr(row, name, value)
        row.updated_at, row.updated_by = self.now, self.actor_id
        for province in sorted(set(provinces)):
            self._entries.append(
                partial(
                    self.journal.add,
                    province,
                    action,
                    official_id=row.id,
                    before=before,
                    after=dict(changes),
                    reason=reason,
                    payload=payload,
                )
            )

    def assign(
        self,
        official_id: str,
        values: AssignmentValues,
        *,
        reason: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> RoleAssignmentRow:
        row = RoleAssignmentRow(
            official_id=official_id,
            role=values.role.value,
            province_code=values.province_code,
            unit_code=values.unit_code,
            valid_from=values.valid_from,
            valid_until=values.valid_until,
        )
        self.session.add(row)
        self._entries.append(
            lambda: self.journal.add(
                values.province_code,
                "role_assigned",
                official_id=official_id,
                assignment_id=row.id,
                after=values.snapshot(),
                reason=reason,
                payload=payload,
            )
        )
        return row

    def change_assignment(
        self,
        row: RoleAssignmentRow,
        valid_from: date | None,
        valid_until: date | None,
        *,
        action: str = "role_changed",
        reason: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        """New validity days for an assignment (ending it: `valid_until`, with action role_ended)."""
        before = {"valid_from": day_text(row.valid_from), "valid_until": day_text(row.valid_until)}
        row.valid_from, row.valid_until = valid_from, valid_until
        after = {"valid_from": day_text(valid_from), "valid_until": day_text(valid_until)}
        scope = {"role": row.role, "unit_code": row.unit_code}
        self._entries.append(
            lambda: self.journal.add(
                row.province_code,
                action,
                official_id=row.official_id,
                assignment_id=row.id,
                before={**scope, **before},
                after={**scope, **after},
                reason=reason,
                payload=payload,
            )
        )

    async def finish(self) -> int:
        """Flush the changes and append their journal rows (the caller commits); the journal rows written."""
        await self.session.flush()
        entries, self._entries = self._entries, []
        for entry in entries:
            entry()
        return await self.journal.flush()
