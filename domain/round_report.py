"""Where a province's round stands, and its report: registered, submitted, recognised, not recognised by reason,
and the share recognised against the province's target. Pure: the cases' standings and the time come in."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from domain.stages import Outcome, Stage

# Share of units to be recognised when a province has set none in the round: an assumed default (provinces set
# their own: Hưng Yên 95% by 2020, Hải Dương 100% by 2020, An Giang 75% in 2020 — DOMAIN.md).
DEFAULT_TARGET_SHARE = 0.80


class CaseStanding(BaseModel):
    """A case as its round last heard of it."""

    model_config = ConfigDict(frozen=True)

    case_id: str
    unit_code: str
    stage: Stage
    status: str
    outcome: Outcome | None = None
    due_at: datetime | None = None
    escalation_level: int = 0
    problem: str | None = None
    on_hold: bool = False
    registered: bool = False
    submitted: bool = False
    blocking_reasons: list[str] = Field(default_factory=list)
    last_action: str = ""
    seq: int = 0


def registered(stage: Stage, outcome: Outcome | None) -> bool:
    """A case counts as registered once it has left registration, unless it closed there as not registered."""
    return stage != Stage.REGISTRATION and outcome != Outcome.NOT_REGISTERED


class RoundProgress(BaseModel):
    model_config = ConfigDict(frozen=True)

    units: int
    started: int
    open: int
    closed: int
    # None: the round hears its cases only when they end (their results), so it does not know where open cases
    # stand; the read model does (services/rounds).
    by_stage: dict[str, int] | None
    by_outcome: dict[str, int]
    overdue: int | None
    escalated: int | None
    stuck: int | None
    on_hold: int | None


class RoundReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    round_id: str
    province_code: str
    units: int
    registered: int
    submitted: int
    recognised: int
    not_recognised: int
    not_recognised_by_reason: dict[str, int]
    not_registered: int
    not_submitted: int
    withdrawn: int
    still_open: int
    recognised_share: float
    target_share: float
    meets_target: bool
    closed_at: datetime


def progress_of(
    units: int, standings: Iterable[CaseStanding], *, now: datetime, follows_open_cases: bool = True
) -> RoundProgress:
    """`follows_open_cases`: the cases tell the round where they stand on the way (else only when they end, and
    the figures of open cases are None)."""
    items = list(standings)
    open_items = [s for s in items if s.status == "open"]
    following = follows_open_cases
    return RoundProgress(
        units=units,
        started=len(items),
        open=len(open_items),
        closed=len(items) - len(open_items),
        by_stage=dict(Counter(s.stage.value for s in items)) if following else None,
        by_outcome=dict(Counter(s.outcome.value for s in items if s.outcome is not None and s.status == "closed")),
        overdue=sum(1 for s in open_items if s.due_at is not None and s.due_at < now and not s.on_hold)
        if following
        else None,
        escalated=sum(1 for s in open_items if s.escalation_level > 0) if following else None,
        stuck=sum(1 for s in open_items if s.problem == "stuck") if following else None,
        on_hold=sum(1 for s in open_items if s.on_hold) if following else None,
    )


def _refusal_reason(s: CaseStanding) -> str:
    """Why a closed case was not recognised: the verdict's blocking reasons, else the authority's refusal."""
    if s.blocking_reasons:
        return "+".join(sorted(set(s.blocking_reasons)))
    return "refused_at_appraisal" if s.last_action == "appraisal_completed" else "refused_by_decision"


def report(
    round_id: str,
    province_code: str,
    units: int,
    standings: Iterable[CaseStanding],
    *,
    target_share: float,
    now: datetime,
) -> RoundReport:
    if not 0 <= target_share <= 1:
        raise ValueError(f"target share must be between 0 and 1, got {target_share}")
    items = list(standings)
    closed = [s for s in items if s.status == "closed"]
    outcomes = Counter(s.outcome for s in closed)
    refused = [s for s in closed if s.outcome == Outcome.NOT_RECOGNISED]
    recognised = outcomes[Outcome.RECOGNISED]
    share = recognised / units if units else 0.0
    return RoundReport(
        round_id=round_id,
        province_code=province_code,
        units=units,
        registered=sum(1 for s in items if s.registered),
        submitted=sum(1 for s in items if s.submitted),
        recognised=recognised,
        not_recognised=len(refused),
        not_recognised_by_reason=dict(Counter(_refusal_reason(s) for s in refused)),
        not_registered=outcomes[Outcome.NOT_REGISTERED],
        not_submitted=outcomes[Outcome.NOT_SUBMITTED],
        withdrawn=outcomes[Outcome.WITHDRAWN],
        still_open=len(items) - len(closed),
        recognised_share=round(share, 4),
        target_share=target_share,
        meets_target=share >= target_share,
        closed_at=now,
    )
