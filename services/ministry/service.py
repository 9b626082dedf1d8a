"""The report to the ministry, a step of the round: when a province's round closes its report task opens (in the round
activity's transaction: services/ministry/opening.py), due `XPTT_MINISTRY_REPORT_DUE` of the next year. The
province's administrator reviews the draft (the round's report as it stands, with its hash) and submits the hash they
reviewed. Submitting freezes the draft as the snapshot, writes its hash into the province's directory journal
(`ministry_report_submitted`) and is final: a second submission is refused, and PostgreSQL refuses any change to a
submitted row.

The ministry (a national role) reads every province's status and submitted snapshot, and the national totals over the
submitted snapshots; a province's officials read only their own province's report.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from audit.canonical import sha256_hex as snapshot_hash
from db.models import CaseRow, DirectoryEventRow, OfficialRow, ProvinceRow, RoundRow
from db.models_ministry import MinistryReportRow
from domain.calendar import local_date
from domain.ministry_report import SNAPSHOT_FORMAT, ReportStatus, national_totals, status_of
from services.access import (
    Principal,
    overseen_provinces,
    require_admin,
    require_ministry,
    require_report_reader,
)
from services.errors import Refusal
from services.ministry.schemas import MinistryReportOut, NationalOut, ProvinceStatus, SubmitIn, VerificationOut
from services.officials.journal import DirectoryJournal
from services.rounds import service as rounds
from services.rounds.queries import round_row

SUBMITTED = "ministry_report_submitted"  # the directory journal's action


async def draft(
    session: AsyncSession, principal: Principal, round_id: str, province: str, *, now: datetime
) -> dict[str, Any]:
    """The round's report as it stands, as it would be frozen: without the moment it was read."""
    out = await rounds.report(session, principal, round_id, province, now=now)
    return {"format": SNAPSHOT_FORMAT, **out.model_dump(mode="json", exclude={"generated_at", "recorded"})}


async def _province_name(session: AsyncSession, province: str) -> str:
    name = await session.scalar(select(ProvinceRow.name).where(ProvinceRow.code == province))
    if name is None:
        raise Refusal(404, "province_not_found", f"no province {province}", field="province")
    return name


async def _round(session: AsyncSession, round_id: str) -> None:
    if await round_row(session, round_id) is None:
        raise Refusal(404, "round_not_found", f"no round {round_id} has been opened", round_id=round_id)


async def _counts(session: AsyncSession, round_id: str) -> dict[str, int]:
    """Per province: the round's cases."""
    rows = await session.execute(
        select(CaseRow.province_code, func.count()).where(CaseRow.round_id == round_id).group_by(CaseRow.province_code)
    )
    return {code: cases for code, cases in rows}


def _status(row: MinistryReportRow | None, cases: int, today: date) -> ReportStatus:
    return status_of(
        cases=cases,
        opened=row is not None,
        submitted=row is not None and row.submitted_at is not None,
        due=row.due_on if row is not None else None,
        today=today,
    )


async def report_of(
    session: AsyncSession, principal: Principal, round_id: str, province: str, *, now: datetime
) -> MinistryReportOut:
    """The province's report to the ministry: its status and due day; the draft and its hash for the province's
    officials until it is submitted, then the frozen snapshot and its hash (to the ministry too)."""
    require_report_reader(principal, province)
    name = await _province_name(session, province)
    await _round(session, round_id)
    row = await session.get(MinistryReportRow, (round_id, province))
    cases = (await _counts(session, round_id)).get(province, 0)
    out = MinistryReportOut(
        round_id=round_id,
        province=province,
        province_name=name,
        status=_status(row, cases, local_date(now)),
        due_on=row.due_on if row else None,
        opened_at=row.opened_at if row else None,
    )
    if row is not None and row.submitted_at is not None:
        return out.model_copy(
            update={
                "submitted_at": row.submitted_at,
                "submitted_by": row.submitted_by,
                "submitted_by_name": await session.scalar(
                    select(OfficialRow.full_name).where(OfficialRow.id == row.submitted_by)
                ),
                "snapshot_hash": row.snapshot_hash,
                "snapshot": row.snapshot,
                "journal_seq": row.journal_seq,
            }
        )
    if province in overseen_provinces(principal):
        current = await draft(session, principal, round_id, province, now=now)
        return out.model_copy(update={"draft": current, "draft_hash": snapshot_hash(current)})
    return out


async def submit(
    session: AsyncSession, principal: Principal, round_id: str, req: SubmitIn, *, now: datetime
) -> MinistryReportOut:
    """Freeze the draft the administrator reviewed (`reviewed_hash`) as the province's report; refused when the round
    has not closed, when the report was submitted already, or when the draft changed since it was reviewed."""
    require_admin(principal, req.province)
    await _round(session, round_id)
    journal = DirectoryJournal(session, actor_id=principal.official_id, now=now)
    await journal.lock([req.province])
    row = await session.get(MinistryReportRow, (round_id, req.province), with_for_update=True)
    if row is None:
        raise Refusal(
            409,
            "report_not_open",
            f"the round {round_id} has not closed in province {req.province}: no report is due yet",
        )
    if row.submitted_at is not None:
        raise Refusal(
            409,
            "report_already_submitted",
            f"the report was submitted on {row.submitted_at.isoformat()} (hash {row.snapshot_hash}); it is frozen",
        )
    current = await draft(session, principal, round_id, req.province, now=now)
    digest = snapshot_hash(current)
    if digest != req.reviewed_hash:
        raise Refusal(
            409,
            "report_changed",
            f"reviewed_hash: the report changed since it was reviewed (now {digest}); review it again",
            field="reviewed_hash",
        )
    journal.add(req.province, SUBMITTED, official_id=None, payload={"round_id": round_id, "snapshot_hash": digest})
    await journal.flush()
    seq = await session.scalar(
        select(func.max(DirectoryEventRow.seq)).where(DirectoryEventRow.province_code == req.province)
    )
    row.snapshot, row.snapshot_hash, row.journal_seq = current, digest, seq
    row.submitted_at, row.submitted_by = now, principal.official_id
    await session.commit()
    return await report_of(session, principal, round_id, req.province, now=now)


async def verify(session: AsyncSession, principal: Principal, round_id: str, province: str) -> VerificationOut:
    """The submitted snapshot hashes to the hash stored with it and to the one its journal row recorded."""
    require_report_reader(principal, province)
    row = await session.get(MinistryReportRow, (round_id, province))
    if row is None or row.snapshot is None or row.snapshot_hash is None:
        raise Refusal(404, "report_not_submitted", f"province {province} has not submitted the report of {round_id}")
    entry = await session.scalar(
        select(DirectoryEventRow).where(
            DirectoryEventRow.province_code == province,
            DirectoryEventRow.seq == row.journal_seq,
            DirectoryEventRow.action == SUBMITTED,
        )
    )
    recorded = entry.payload.get("snapshot_hash") if entry is not None else None
    recomputed = snapshot_hash(row.snapshot)
    return VerificationOut(
        round_id=round_id,
        province=province,
        ok=recomputed == row.snapshot_hash == recorded,
        stored_hash=row.snapshot_hash,
        recomputed_hash=recomputed,
        journal_hash=recorded,
        journal_seq=row.journal_seq,
    )


async def latest_round(session: AsyncSession, principal: Principal) -> str:
    """The round the national page opens on: the latest with a report task, else the latest opened."""
    require_ministry(principal)
    reported = await session.scalar(
        select(MinistryReportRow.round_id).order_by(MinistryReportRow.opened_at.desc()).limit(1)
    )
    latest = reported or await session.scalar(select(RoundRow.id).order_by(RoundRow.year.desc()).limit(1))
    if latest is None:
        raise Refusal(404, "round_not_found", "no round has been opened")
    return latest


async def national(session: AsyncSession, principal: Principal, round_id: str, *, now: datetime) -> NationalOut:
    """Every province's status for the round and the totals over the reports submitted."""
    require_ministry(principal)
    await _round(session, round_id)
    provinces = (await session.execute(select(ProvinceRow.code, ProvinceRow.name).order_by(ProvinceRow.code))).all()
    reports = {
        r.province_code: r
        for r in await session.scalars(select(MinistryReportRow).where(MinistryReportRow.round_id == round_id))
    }
    counts = await _counts(session, round_id)
    today = local_date(now)
    statuses = []
    for code, name in provinces:
        row = reports.get(code)
        snap = row.snapshot if row is not None else None
        statuses.append(
            ProvinceStatus(
                province=code,
                province_name=name,
                status=_status(row, counts.get(code, 0), today),
                due_on=row.due_on if row else None,
                submitted_at=row.submitted_at if row else None,
                units=snap["units"] if snap else None,
                recognised=snap["recognised"] if snap else None,
                recognised_share=snap["recognised_share"] if snap else None,
                snapshot_hash=row.snapshot_hash if row else None,
            )
        )
    snapshots = [r.snapshot for r in reports.values() if r.snapshot is not None]
    return NationalOut(
        round_id=round_id, totals=national_totals(len(provinces), snapshots), provinces=statuses, generated_at=now
    )
