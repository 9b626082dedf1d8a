"""What a case shows outside its workflow: its search attributes and its standing as its round counts it.

Pure functions of the case's state, no workflow and no state of their own: the case workflow imports this module
through the sandbox's pass-through, so it is loaded once per worker rather than once per case run.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio.common import SearchAttributeKey, SearchAttributePair, SearchAttributeUpdate, TypedSearchAttributes

from contracts import CaseProgress, StartCaseInput
from domain.case import CaseState
from domain.round_report import registered
from domain.stages import Stage

STAGE = SearchAttributeKey.for_keyword("Stage")
UNIT_CODE = SearchAttributeKey.for_keyword("UnitCode")
PROVINCE_CODE = SearchAttributeKey.for_keyword("ProvinceCode")
ROUND_ID = SearchAttributeKey.for_keyword("RoundId")
DUE_AT = SearchAttributeKey.for_datetime("DueAt")
ESCALATION_LEVEL = SearchAttributeKey.for_int("EscalationLevel")
PROBLEM = SearchAttributeKey.for_keyword("Problem")

# The values a case's search attributes hold, in the order of `shown`: (stage, due at, escalation level, problem).
Shown = tuple[str, datetime | None, int | None, str | None]


def at_start(due_at: datetime | None) -> Shown:
    """What a case started by its round shows: registration, the first task's due time and level 0 when it is known."""
    return (Stage.REGISTRATION.value, due_at, 0 if due_at is not None else None, None)


def case_search_attributes(inp: StartCaseInput, due_at: datetime | None = None) -> TypedSearchAttributes:
    """Set when the case starts (with the first task's due time when it is known then); no personal data."""
    stage, due, level, _ = at_start(due_at)
    pairs: list[SearchAttributePair[Any]] = [
        SearchAttributePair(STAGE, stage),
        SearchAttributePair(UNIT_CODE, inp.unit_code),
        SearchAttributePair(PROVINCE_CODE, inp.province_code),
        SearchAttributePair(ROUND_ID, inp.round_id),
    ]
    if due is not None and level is not None:
        pairs += [SearchAttributePair(DUE_AT, due), SearchAttributePair(ESCALATION_LEVEL, level)]
    return TypedSearchAttributes(pairs)


def shown(state: CaseState) -> Shown:
    """What the case's search attributes say of this state."""
    task = state.task
    problem = state.problem or ("on_hold" if state.on_hold else None)
    return (
        state.stage.value,
        task.due_at if task else None,
        task.escalation_level if task else None,
        problem,
    )


def attribute_updates(now: Shown, before: Shown | None) -> list[SearchAttributeUpdate[Any]]:
    """The upserts that take the attributes from `before` (None: not known, every one is written) to `now`."""
    stage, due_at, level, problem = now
    updates: list[SearchAttributeUpdate[Any]] = []
    if before is None or before[0] != stage:
        updates.append(STAGE.value_set(stage))
    if before is None or before[1] != due_at:
        updates.append(DUE_AT.value_set(due_at) if due_at is not None else DUE_AT.value_unset())
    if before is None or before[2] != level:
        updates.append(ESCALATION_LEVEL.value_set(level) if level is not None else ESCALATION_LEVEL.value_unset())
    if before is None or before[3] != problem:
        updates.append(PROBLEM.value_set(problem) if problem else PROBLEM.value_unset())
    return updates


def progress(state: CaseState, action: str) -> CaseProgress:
    """Where the case stands, as its round counts it."""
    return CaseProgress(
        case_id=state.case_id,
        unit_code=state.unit_code,
        stage=state.stage,
        status=state.status,
        outcome=state.outcome,
        due_at=state.task.due_at if state.task else None,
        escalation_level=state.task.escalation_level if state.task else 0,
        problem=state.problem,
        on_hold=state.on_hold,
        registered=registered(state.stage, state.outcome),
        submitted=state.dossier_submitted,
        blocking_reasons=[r.code for r in state.verdict.blocking_reasons] if state.verdict else [],
        last_action=action,
        seq=state.seq,
    )


def milestone(standing: CaseProgress) -> tuple[object, ...]:
    """What of a case's standing is news for its round (a stage move alone is not)."""
    return (
        standing.status,
        standing.registered,
        standing.submitted,
        standing.outcome,
        standing.problem,
        standing.on_hold,
        standing.escalation_level,
    )
