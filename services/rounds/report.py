"""The report of a round in a province, counted from the read model: one row per unit, the milestones the cases
reached, the share recognised; and the same rows as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from domain.report_failures import Assessed, failures_of, zero_criteria
from domain.rulesets import load_rule_set
from domain.stages import Outcome
from services.rounds.queries import DOSSIER_FILED, REGISTERED, CaseRows
from services.rounds.schemas import (
    CriterionZeros,
    DistrictResult,
    LocalityResult,
    ReportOut,
    ReportTarget,
    UnitBelow,
    UnitResult,
)


def zero_criteria_text(verdict: dict[str, Any]) -> str:
    """The criteria a verdict scored 0 (blocking), as "3, 5"."""
    return ", ".join(map(str, zero_criteria(verdict)))


CSV_COLUMNS = [
    "unit_code",
    "unit_name",
    "locality_type",
    "stage",
    "status",
    "outcome",
    "total",
    "threshold",
    "zero_criteria",
    "former_district",
]


def failures(rule_set_id: str, rows: CaseRows) -> dict[str, Any]:
    """The report's failures (domain/report_failures.py): zeros per criterion by name, units below their threshold
    by name, results per locality type."""
    criteria = {c.number: c for c in load_rule_set(rule_set_id).criteria}
    unit_names = {case.unit_code: name for case, name, _ in rows}
    found = failures_of(
        Assessed(unit_code=c.unit_code, locality_type=c.locality_type, verdict=c.verdict)
        for c, _, _ in rows
        if c.verdict is not None
    )
    return {
        "zero_by_criterion": [
            CriterionZeros(
                criterion=n,
                name=criteria[n].name_vi if n in criteria else str(n),
                name_en=criteria[n].name_en if n in criteria else str(n),
                units=k,
            )
            for n, k in found.zero_by_criterion.items()
        ],
        "below_threshold": [
            UnitBelow(unit_name=unit_names.get(b.unit_code, b.unit_code), **b.model_dump())
            for b in found.below_threshold
        ],
        "by_locality": [LocalityResult(**x.model_dump()) for x in found.by_locality],
    }


def by_district(results: list[UnitResult]) -> list[DistrictResult]:
    """Cases, assessed and recognised per former district, in the districts' order of name."""
    rows: dict[str, list[int]] = {}
    for r in results:
        if r.former_district is None:
            continue
        row = rows.setdefault(r.former_district, [0, 0, 0])
        row[0] += 1
        row[1] += r.total is not None
        row[2] += r.outcome == Outcome.RECOGNISED.value
    return [
        DistrictResult(former_district=d, units=n, assessed=a, recognised=k) for d, (n, a, k) in sorted(rows.items())
    ]


def build_report(
    round_id: str,
    province: str,
    rule_set_id: str,
    units: int,
    rows: CaseRows,
    milestones: dict[str, set[str]],
    *,
    now: datetime,
    target: ReportTarget | None = None,
    districts: Mapping[str, str] | None = None,
) -> ReportOut:
    """The report over the round's cases; `districts`: each unit's former district, where known."""
    districts = districts or {}
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
                zero_criteria=zero_criteria_text(verdict),
                former_district=districts.get(case.unit_code),
            )
        )
    recognised = counts[Outcome.RECOGNISED.value]
    share = recognised / units if units else None
    return ReportOut(
        round_id=round_id,
        province=province,
        rule_set_id=rule_set_id,
        final=bool(rows) and all(c.status == "closed" for c, _, _ in rows),
        units=units,
        registered=len(milestones[REGISTERED]),
        assessed=sum(1 for c, _, _ in rows if c.verdict is not None),
        submitted=len(milestones[DOSSIER_FILED]),
        recognised=recognised,
        not_recognised=counts[Outcome.NOT_RECOGNISED.value],
        not_registered=counts[Outcome.NOT_REGISTERED.value],
        not_submitted=counts[Outcome.NOT_SUBMITTED.value],
        withdrawn=counts[Outcome.WITHDRAWN.value],
        recognised_share=round(share, 4) if share is not None else None,
        target=target,
        meets_target=share >= target.share if target is not None and share is not None else None,
        **failures(rule_set_id, rows),
        by_former_district=by_district(results),
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
