"""Importing a province's officials from its spreadsheet (services/officials/sheets.py): one row per official and
role. A dry run reports what each row would do — create, change, unchanged, refuse with the reason — and writes
nothing; applying writes every row in one transaction, or, when any row is refused, nothing at all. Importing the
same file again changes nothing (every row `unchanged`, no journal row).

A row is refused (its code; the column at fault) for: a bad code, name, email, phone or language; an unknown role;
an unknown unit code (`unknown_unit`), a unit of another province (`unit_of_other_province`); a role at the wrong
scope (`wrong_scope`: commune roles over a unit, provincial roles over the province); a district role still held
after the district level ended (`district_role_ended`); an email or sign-in of another official (`duplicate_email`,
`oidc_taken`); an official of another province's directory (`official_of_other_province`) or deactivated
(`official_inactive`); an official's details differing from an earlier row of theirs (`conflicting_row`); the same
role and scope twice (`duplicate_row`).

The file adds and changes; it removes nothing: roles end and officials are deactivated by their own commands. A
column absent from the file leaves that detail as it is; an empty cell clears it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import OfficialRow, RoleAssignmentRow
from services.access import Principal, require_admin
from services.errors import Refusal
from services.officials import queries
from services.officials.rules import (
    AssignmentNames,
    AssignmentValues,
    OfficialValues,
    check_assignment,
    check_day,
    check_official_id,
    check_role,
    clean_official,
    refuse,
)
from services.officials.schemas import ImportReport, RowOutcome
from services.officials.service import writing
from services.officials.sheets import read_sheet
from services.officials.writes import DirectoryWriter, details_changed, official_snapshot
from services.sheets import Row, Sheet

# An official's details and an assignment's fields as the file's columns name them.
DETAIL_COLUMNS = {
    "full_name": "ho_ten",
    "position_title": "chuc_vu",
    "email": "email",
    "phone": "dien_thoai",
    "locale": "ngon_ngu",
    "oidc_issuer": "oidc_issuer",
    "oidc_subject": "oidc_subject",
}
ROLE_COLUMNS = AssignmentNames("vai_tro", "ma_don_vi", "hieu_luc_tu", "hieu_luc_den")


@dataclass
class Context:
    """What the database holds of the file's officials, units, emails and sign-ins."""

    province: str
    columns: frozenset[str]
    officials: dict[str, OfficialRow]
    held: dict[str, list[RoleAssignmentRow]]
    units: dict[str, str]
    emails: dict[str, str]
    oidc: dict[tuple[str, str], str]


async def load_context(session: AsyncSession, province: str, sheet: Sheet) -> Context:
    def column(name: str) -> set[str]:
        return {v for r in sheet.rows if (v := r.values[name])}

    pairs = {(i, s) for r in sheet.rows if (i := r.values["oidc_issuer"]) and (s := r.values["oidc_subject"])}
    ids = column("ma_can_bo")
    return Context(
        province=province,
        columns=sheet.columns,
        officials=await queries.officials(session, ids),
        held=await queries.assignments(session, ids),
        units=await queries.unit_provinces(session, column("ma_don_vi")),
        emails=await queries.email_owners(session, column("email")),
        oidc=await queries.oidc_owners(session, pairs),
    )


@dataclass(frozen=True)
class Step:
    """The writes of one accepted row."""

    line: int
    official_id: str
    values: OfficialValues
    assignment: AssignmentValues
    new_official: bool
    official_changes: dict[str, Any]
    existing: RoleAssignmentRow | None
    assignment_changed: bool


@dataclass
class Planner:
    """Decides each row in file order, remembering what earlier rows claimed (officials, emails, sign-ins, roles)."""

    ctx: Context
    planned: dict[str, OfficialValues] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)
    oidc: dict[tuple[str, str], str] = field(default_factory=dict)
    keys: set[tuple[str, str, str, str | None]] = field(default_factory=set)

    def _values(self, row: Row, existing: OfficialRow | None) -> OfficialValues:
        given = {f: row.values[c] for f, c in DETAIL_COLUMNS.items() if c in self.ctx.columns}
        base = official_snapshot(existing) if existing is not None else {}
        return clean_official({**base, **given}, DETAIL_COLUMNS)

    def _check_official(self, official_id: str, values: OfficialValues) -> None:
        existing = self.ctx.officials.get(official_id)
        elsewhere = {a.province_code for a in self.ctx.held.get(official_id, [])} - {self.ctx.province}
        if elsewhere:
            raise refuse(
                "official_of_other_province",
                "ma_can_bo",
                f"{official_id} is an official of province {', '.join(sorted(elsewhere))}",
            )
        if existing is not None and not existing.active:
            raise refuse("official_inactive", "ma_can_bo", f"{official_id} is deactivated; a row does not bring back")
        earlier = self.planned.get(official_id)
        if earlier is not None and earlier != values:
            name = next(f for f, v in values.snapshot().items() if earlier.snapshot()[f] != v)
            raise refuse(
                "conflicting_row", DETAIL_COLUMNS[name], f"differs from an earlier row of {official_id} in the file"
            )
        if values.email is not None:
            key = values.email.lower()
            owner = self.emails.get(key) or self.ctx.emails.get(key)
            if owner not in (None, official_id):
                raise refuse("duplicate_email", "email", f"{values.email} is the email of official {owner}")
        if values.oidc_issuer is not None and values.oidc_subject is not None:
            pair = (values.oidc_issuer, values.oidc_subject)
            owner = self.oidc.get(pair) or self.ctx.oidc.get(pair)
            if owner not in (None, official_id):
                raise refuse("oidc_taken", "oidc_subject", f"official {owner} signs in as this subject")

    def _assignment(self, row: Row) -> AssignmentValues:
        v, names = row.values, ROLE_COLUMNS
        unit = v["ma_don_vi"]
        return check_assignment(
            check_role(v["vai_tro"], names.role),
            unit,
            check_day(v["hieu_luc_tu"], names.valid_from),
            check_day(v["hieu_luc_den"], names.valid_until),
            province_code=self.ctx.province,
            unit_province=self.ctx.units.get(unit) if unit else None,
            names=names,
        )

    def step(self, row: Row) -> Step:
        """The row's writes, or a Refusal naming the column at fault."""
        official_id = check_official_id(row.values["ma_can_bo"], "ma_can_bo")
        existing = self.ctx.officials.get(official_id)
        values = self._values(row, existing)
        assignment = self._assignment(row)
        self._check_official(official_id, values)
        key = (official_id, *assignment.key())
        if key in self.keys:
            raise refuse("duplicate_row", ROLE_COLUMNS.role, f"{official_id} has this role and scope on an earlier row")
        first_row = official_id not in self.planned
        self.planned[official_id] = values
        self.keys.add(key)
        if values.email is not None:
            self.emails[values.email.lower()] = official_id
        if values.oidc_issuer is not None and values.oidc_subject is not None:
            self.oidc[(values.oidc_issuer, values.oidc_subject)] = official_id
        same = next(
            (a for a in self.ctx.held.get(official_id, []) if (a.role, a.province_code, a.unit_code) == key[1:]), None
        )
        return Step(
            line=row.line,
            official_id=official_id,
            values=values,
            assignment=assignment,
            new_official=existing is None and first_row,
            official_changes=details_changed(existing, values) if existing is not None and first_row else {},
            existing=same,
            assignment_changed=same is not None
            and (same.valid_from, same.valid_until) != (assignment.valid_from, assignment.valid_until),
        )


def _outcome(row: Row, step: Step | None, refusal: Refusal | None) -> RowOutcome:
    v = row.values
    base = {
        "row": row.line,
        "official_id": v["ma_can_bo"],
        "full_name": v["ho_ten"],
        "role": v["vai_tro"],
        "unit_code": v["ma_don_vi"],
    }
    if refusal is not None or step is None:
        assert refusal is not None
        column = refusal.extra.get("field")
        detail = refusal.detail.split(": ", 1)[-1] if column else refusal.detail
        return RowOutcome(
            **base, outcome="refuse", code=refusal.code, field=column, value=v.get(column or ""), detail=detail
        )
    base["role"] = step.assignment.role.value  # its code, however the file names it
    changes = [DETAIL_COLUMNS[f] for f in step.official_changes]
    if step.new_official or step.existing is None:
        return RowOutcome(**base, outcome="create", changes=changes)
    if step.assignment_changed:
        assert step.existing is not None
        if step.existing.valid_from != step.assignment.valid_from:
            changes.append(ROLE_COLUMNS.valid_from)
        if step.existing.valid_until != step.assignment.valid_until:
            changes.append(ROLE_COLUMNS.valid_until)
    return RowOutcome(**base, outcome="change" if changes else "unchanged", changes=changes)


def _write(writer: DirectoryWriter, ctx: Context, steps: list[Step], digest: str) -> None:
    for s in steps:
        payload = {"source": "import", "file_sha256": digest, "row": s.line}
        if s.new_official:
            writer.create_official(s.official_id, s.values, province_code=ctx.province, payload=payload)
        elif s.official_changes:
            official = ctx.officials[s.official_id]
            writer.change_official(official, s.official_changes, provinces=[ctx.province], payload=payload)
        if s.existing is None:
            writer.assign(s.official_id, s.assignment, payload=payload)
        elif s.assignment_changed:
            a = s.assignment
            writer.change_assignment(s.existing, a.valid_from, a.valid_until, payload=payload)


async def import_officials(
    session: AsyncSession, principal: Principal, province: str, data: bytes, *, apply: bool, now: datetime
) -> ImportReport:
    """The per-row report of importing `data` into the province's directory; written when `apply` and no row is
    refused."""
    require_admin(principal, province)
    sheet = read_sheet(data)
    digest = hashlib.sha256(data).hexdigest()
    writer = DirectoryWriter(session, actor_id=principal.official_id, now=now)
    journal_rows = 0
    async with writing(session):
        if apply:
            await writer.lock([province])  # the plan is made against the directory as this transaction holds it
        ctx = await load_context(session, province, sheet)
        planner = Planner(ctx)
        outcomes: list[RowOutcome] = []
        steps: list[Step] = []
        for row in sheet.rows:
            try:
                step = planner.step(row)
            except Refusal as exc:
                outcomes.append(_outcome(row, None, exc))
                continue
            steps.append(step)
            outcomes.append(_outcome(row, step, None))
        applied = apply and all(o.outcome != "refuse" for o in outcomes)
        if applied:
            _write(writer, ctx, steps, digest)
            journal_rows = await writer.finish()
    count = {kind: sum(o.outcome == kind for o in outcomes) for kind in ("create", "change", "unchanged", "refuse")}
    return ImportReport(
        province=province,
        format=sheet.format,
        file_sha256=digest,
        apply=apply,
        applied=applied,
        rows=len(outcomes),
        created=count["create"],
        changed=count["change"],
        unchanged=count["unchanged"],
        refused=count["refuse"],
        journal_rows=journal_rows,
        outcomes=outcomes,
    )
