"""The report of a round in a province, counted from the read model: one row per unit, the milestones the cases
reached, the share recognised; and the same rows as CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from domain.stages import Outcome
from services.rounds.queries import CaseRows
from services.rounds.schemas import ReportOut, UnitResult

CSV_COLUMNS = ["unit_code", "unit_name", "locality_type", "stage", "status", "outcome", "total", "threshold"]


def build_report(
    round_id: str,
    province: str,
    rule_set_id: str,
    units: int,
    rows: CaseRows,
    milestones: dict[str, set[str]],
    *,
    now: datetime,
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
        generated_at=now,
        recorded=None,
    )


def report_csv(report: ReportOut) -> str:
    """One row per unit, with a header."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for r in report.results:
        writer.writerow(r.model_dump())
    return buf.getvalue()
