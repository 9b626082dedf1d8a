"""Importing a province's past rounds (domain/past_rounds.py) from its CSV or XLSX file: one row per unit recognised
in a round before this system held it. A dry run reports what each row would do — create, change, unchanged, refuse
with the column and the reason — and writes nothing; applying writes every row in one transaction, or, when any row
is refused, nothing at all. Importing the same file again changes nothing (every row `unchanged`).

A row is refused for a bad or missing column (`missing`, `bad_year`, `bad_date`, `bad_unit_code`, `too_long`), a
year no rule set assessed in (`year_outside_rule_sets`) or a round not yet past (`round_not_past`), a decision date
in the future or before the round's assessment (`date_in_future`, `date_before_round`), a unit the province did not
have then (`unknown_unit`: before 1 July 2025 the former units merged into its current ones, from the lineage), a
name that fits several (`ambiguous_unit`: name the district), a code and name that disagree (`name_mismatch`), the
same unit and round twice (`duplicate_row`). Each row written is a `past_recognition_set` row of the province's
directory journal, with the file's SHA-256 and the row (before and after, when it changes one).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ProvinceRow
from db.models_history import PastRecognitionRow
from domain.calendar import local_date
from domain.past_rounds import KnownUnit, PastRecognition, RowRefused, check_row, resolve_unit
from services.access import Principal, require_admin
from services.errors import Refusal
from services.history.lineage import current_units, former_units
from services.history.schemas import ImportReport, RowOutcome
from services.history.sheet import Row, read_sheet
from services.officials.journal import DirectoryJournal

FIELDS = ("unit_name", "district_name", "decision_number", "decision_date")


@dataclass(frozen=True)
class Step:
    line: int
    checked: PastRecognition
    unit: KnownUnit
    existing: PastRecognitionRow | None
    changes: list[str]

    def values(self) -> dict[str, Any]:
        c = self.checked
        return {
            "unit_code": self.unit.code,
            "unit_name": self.unit.name,
            "district_name": self.unit.district_name,
            "former": c.former,
            "rule_set_id": c.rule_set_id,
            "round_id": c.round_id,
            "year": c.year,
            "decision_number": c.decision_number,
            "decision_date": c.decision_date,
        }


def _snapshot(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if k == "decision_date" else v) for k, v in values.items()}


def _plan(
    rows: list[Row], units: dict[bool, list[KnownUnit]], stored: dict[tuple[str, str], PastRecognitionRow], today: date
) -> tuple[list[RowOutcome], list[Step]]:
    outcomes: list[RowOutcome] = []
    steps: list[Step] = []
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        v = row.values
        given = {
            "row": row.line,
            "unit_code": v["ma_don_vi"],
            "unit_name": v["ten_don_vi"],
            "district_name": v["ten_huyen"],
            "year": v["nam"],
            "decision_number": v["so_quyet_dinh"],
        }
        try:
            checked = check_row(row.line, v, today=today)
            unit = resolve_unit(checked, units[checked.former])
            key = (unit.code, checked.round_id)
            if key in seen:
                raise RowRefused("ma_don_vi", "duplicate_row", f"{unit.name} in {checked.year} is on row {seen[key]}")
            seen[key] = row.line
        except RowRefused as exc:
            outcomes.append(
                RowOutcome(
                    **given, outcome="refuse", code=exc.kind, field=exc.field, value=v.get(exc.field), detail=exc.reason
                )
            )
            continue
        existing = stored.get(key)
        step = Step(row.line, checked, unit, existing, [])
        if existing is not None:
            step.changes.extend(f for f in FIELDS if getattr(existing, f) != step.values()[f])
        steps.append(step)
        outcome = "create" if existing is None else ("change" if step.changes else "unchanged")
        outcomes.append(
            RowOutcome(
                **{**given, "unit_code": unit.code, "unit_name": unit.name, "district_name": unit.district_name},
                outcome=outcome,
                round_id=checked.round_id,
                decision_date=checked.decision_date,
                changes=step.changes,
            )
        )
    return outcomes, steps


async def _stored(session: AsyncSession, codes: set[str]) -> dict[tuple[str, str], PastRecognitionRow]:
    rows = await session.scalars(select(PastRecognitionRow).where(PastRecognitionRow.unit_code.in_(codes)))
    return {(r.unit_code, r.round_id): r for r in rows}


def _write(
    session: AsyncSession,
    journal: DirectoryJournal,
    province: str,
    steps: list[Step],
    *,
    digest: str,
    now: datetime,
    actor: str,
) -> None:
    for s in steps:
        if s.existing is not None and not s.changes:
            continue
        values = s.values()
        before = {}
        row = s.existing
        if row is None:
            row = PastRecognitionRow(province_code=province, **values)
            session.add(row)
        else:
            before = {f: _snapshot({f: getattr(row, f)})[f] for f in s.changes}
            for f in s.changes:
                setattr(row, f, values[f])
        row.batch_id, row.imported_at, row.imported_by = digest, now, actor
        after = _snapshot(values) if s.existing is None else {f: _snapshot(values)[f] for f in s.changes}
        journal.add(
            province,
            "past_recognition_set",
            official_id=None,
            before=before,
            after={"unit_code": s.unit.code, "round_id": s.checked.round_id, **after},
            payload={"source": "import", "file_sha256": digest, "row": s.line},
        )


async def import_past_rounds(
    session: AsyncSession,
    principal: Principal,
    province: str,
    data: bytes,
    *,
    apply: bool,
    now: datetime,
    file_name: str | None = None,
) -> ImportReport:
    """The per-row report of importing `data` into the province's past rounds; written when `apply` and no row is
    refused."""
    require_admin(principal, province)
    sheet = read_sheet(data)
    digest = hashlib.sha256(data).hexdigest()
    journal = DirectoryJournal(session, actor_id=principal.official_id, now=now)
    journal_rows = 0
    try:
        if await session.get(ProvinceRow, province) is None:
            raise Refusal(404, "province_not_found", f"no province {province}")
        if apply:
            await journal.lock([province])  # one import of a province at a time
        units = {True: await former_units(session, province), False: await current_units(session, province)}
        codes = {u.code for us in units.values() for u in us}
        outcomes, steps = _plan(sheet.rows, units, await _stored(session, codes), local_date(now))
        applied = apply and all(o.outcome != "refuse" for o in outcomes)
        if applied:
            _write(session, journal, province, steps, digest=digest, now=now, actor=principal.official_id)
            await session.flush()
            journal_rows = await journal.flush()
            await session.commit()
        else:
            await session.rollback()
    except IntegrityError:
        await session.rollback()
        raise Refusal(
            409, "past_rounds_conflict", "file: the past rounds changed meanwhile; try again", field="file"
        ) from None
    except BaseException:
        await session.rollback()
        raise
    count = {kind: sum(o.outcome == kind for o in outcomes) for kind in ("create", "change", "unchanged", "refuse")}
    return ImportReport(
        province=province,
        file_name=file_name,
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
