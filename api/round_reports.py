"""The report of a round in a province, counted from the read model: one row per unit, and the milestones each
case reached (from its journal: a case that registered and later closed still registered)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEventRow, CaseRow, TaskRow
from domain.round_report import RoundReport
from domain.stages import Outcome, Stage


class UnitResult(BaseModel):
    unit_code: str
    unit_name: str
    locality_type: str
    stage: str
    status: str
    outcome: str | None
    total: int | None = Field(description="the council's total score, when assessed")
    threshold: int | None


class ReportOut(BaseModel):
    round_id: str
    province: str
    rule_set_id: str
    final: bool = Field(description="true when every case of the round is closed")
    units: int
    registered: int = Field(description="cases that registered (did not decline or miss registration)")
    assessed: int = Field(description="cases whose council approved scores")
    submitted: int = Field(description="cases whose dossier reached appraisal")
    recognised: int
    not_recognised: int
    not_registered: int
    not_submitted: int
    withdrawn: int
    recognised_share: float | None = Field(description="recognised / units of the province, in percent")
    results: list[UnitResult]
    generated_at: datetime
    recorded: RoundReport | None = Field(
        description="the report the round workflow recorded when the round closed, with the share recognised against "
        "the province's target (null while the round is open)"
    )


async def milestones(session: AsyncSession, round_id: str, province: str) -> dict[str, set[str]]:
    """Cases that registered and cases that filed their dossier, from the journal (a case may close later)."""
    rows = await session.execute(
        select(AuditEventRow.action, AuditEventRow.case_id)
        .join(CaseRow, CaseRow.id == AuditEventRow.case_id)
        .where(
            CaseRow.round_id == round_id,
            CaseRow.province_code == province,
            AuditEventRow.action.in_(["registration_completed", "dossier_submission_completed"]),
            AuditEventRow.to_stage != Stage.CLOSED.value,
        )
    )
    found: dict[str, set[str]] = {"registration_completed": set(), "dossier_submission_completed": set()}
    for action, case_id in rows.all():
        found[action].add(case_id)
    return found


def round_report(
    round_id: str,
    province: str,
    rule_set_id: str,
    units: int,
    rows: list[tuple[CaseRow, str, TaskRow | None]],
    milestones: dict[str, set[str]],
) -> ReportOut:
    results = []
    counts = {o.value: 0 for o in Outcome}
    for case, name, _ in rows:
        verdict = case.verdict or {}
        if case.outcome:
            counts[case.outcome] = counts.get(case.outcome, 0) + 1
        results.append(
            UnitResult(
                unit_code=case.unit_code,
                unit_name=name,
                locality_type=case.locality_type,
                stage=case.stage,
                status=case.status,
                outcome=case.outcome,
                total=verdict.get("total"),
                threshold=verdict.get("threshold"),
            )
        )
    recognised = counts[Outcome.RECOGNISED.value]
    return ReportOut(
        round_id=round_id,
        province=province,
        rule_set_id=rule_set_id,
        final=bool(rows) and all(c.status == "closed" for c, _, _ in rows),
        units=units,
        registered=len(milestones["registration_completed"]),
        assessed=sum(1 for c, _, _ in rows if c.verdict is not None),
        submitted=len(milestones["dossier_submission_completed"]),
        recognised=recognised,
        not_recognised=counts[Outcome.NOT_RECOGNISED.value],
        not_registered=counts[Outcome.NOT_REGISTERED.value],
        not_submitted=counts[Outcome.NOT_SUBMITTED.value],
        withdrawn=counts[Outcome.WITHDRAWN.value],
        recognised_share=round(100 * recognised / units, 2) if units else None,
        results=results,
        generated_at=datetime.now(UTC),
        recorded=None,
    )


CSV_COLUMNS = ["unit_code", "unit_name", "locality_type", "stage", "status", "outcome", "total", "threshold"]
