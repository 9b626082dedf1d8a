"""The round's own count of its cases (`progress_of`): every figure when its cases signal their milestones, only the
counts of cases started, open, closed and their outcomes when they report only at their end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.round_report import CaseStanding, progress_of
from domain.stages import Outcome, Stage

NOW = datetime(2027, 10, 1, 3, 0, tzinfo=UTC)


def _standings() -> list[CaseStanding]:
    def case(n: int, **kw: object) -> CaseStanding:
        return CaseStanding.model_validate({"case_id": f"c{n}", "unit_code": f"u{n}", **kw})

    return [
        case(1, stage=Stage.REGISTRATION, status="open", due_at=NOW - timedelta(hours=1)),  # overdue
        case(2, stage=Stage.REGISTRATION, status="open", due_at=NOW - timedelta(hours=1), on_hold=True),  # held
        case(3, stage=Stage.APPRAISAL, status="open", due_at=NOW + timedelta(days=1), escalation_level=2),
        case(4, stage=Stage.DOSSIER_SUBMISSION, status="open", problem="stuck"),
        case(5, stage=Stage.CLOSED, status="closed", outcome=Outcome.RECOGNISED),
        case(6, stage=Stage.CLOSED, status="closed", outcome=Outcome.NOT_REGISTERED),
    ]


def test_a_round_whose_cases_signal_counts_every_figure() -> None:
    p = progress_of(10, _standings(), now=NOW)
    assert (p.units, p.started, p.open, p.closed) == (10, 6, 4, 2)
    assert p.by_stage == {"registration": 2, "appraisal": 1, "dossier_submission": 1, "closed": 2}
    assert p.by_outcome == {"recognised": 1, "not_registered": 1}
    assert (p.overdue, p.escalated, p.stuck, p.on_hold) == (1, 1, 1, 1)


@pytest.mark.parametrize("cases", [0, 1, 6])
def test_a_round_that_hears_only_the_ends_counts_them_and_leaves_the_open_cases_figures_unknown(cases: int) -> None:
    standings = _standings()[:cases]
    p = progress_of(10, standings, now=NOW, follows_open_cases=False)
    followed = progress_of(10, standings, now=NOW)
    assert (p.started, p.open, p.closed, p.by_outcome) == (
        followed.started,
        followed.open,
        followed.closed,
        followed.by_outcome,
    )
    assert (p.by_stage, p.overdue, p.escalated, p.stuck, p.on_hold) == (None, None, None, None, None)
