"""Activity inputs and results: one frozen pydantic model each."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.case import CaseState, Transition
from domain.stages import LocalityType, Outcome, Role, Stage
from domain.streaks import RoundResult
from domain.tasks import OpenTask


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True)


class CaseSnapshot(_Payload):
    case_id: str
    unit_code: str
    province_code: str
    round_id: str
    rule_set_id: str
    profile_id: str
    locality_type: LocalityType
    stage: Stage
    status: str
    outcome: Outcome | None
    verdict: dict[str, Any] | None
    last_seq: int
    on_hold: bool = False
    problem: str | None = None


class CompletedTask(_Payload):
    task_id: str
    completed_by: str
    completion: dict[str, Any]


class NewTask(_Payload):
    task_id: str
    stage: Stage
    role: Role
    due_at: datetime | None

    @classmethod
    def of(cls, task: OpenTask | None) -> NewTask | None:
        if task is None:
            return None
        return cls(task_id=task.task_id, stage=task.stage, role=task.role, due_at=task.due_at)


class TaskUpdate(_Payload):
    """The open task's deadlines and holder after a transition (escalation, new due date, reassignment)."""

    task_id: str
    due_at: datetime
    escalation_level: int
    escalated_to: Role | None
    assignee_id: str | None
    stuck: bool

    @classmethod
    def of(cls, task: OpenTask | None) -> TaskUpdate | None:
        if task is None:
            return None
        return cls(
            task_id=task.task_id,
            due_at=task.due_at,
            escalation_level=task.escalation_level,
            escalated_to=task.escalated_to,
            assignee_id=task.assignee_id,
            stuck=task.final_applied,
        )


class RecordTransitionInput(_Payload):
    """Everything one transition changes in the read model, applied in one transaction."""

    case: CaseSnapshot
    transition: Transition
    workflow_id: str
    run_id: str | None  # None: a case opened in bulk by its round, before its workflow ran
    actor_id: str | None = None
    actor_role: Role | None = None
    update_id: str | None = None
    completed_task: CompletedTask | None = None
    new_task: NewTask | None = None
    task_update: TaskUpdate | None = None
    cancelled_task_id: str | None = None

    @classmethod
    def of(
        cls,
        state: CaseState,
        transition: Transition,
        *,
        workflow_id: str,
        run_id: str | None,
        actor_id: str | None = None,
        actor_role: Role | None = None,
        update_id: str | None = None,
        completed: CompletedTask | None = None,
    ) -> RecordTransitionInput:
        """What recording `transition` (which took the case to `state`) writes."""
        return cls(
            case=CaseSnapshot(
                case_id=state.case_id,
                unit_code=state.unit_code,
                province_code=state.province_code,
                round_id=state.round_id,
                rule_set_id=state.rule_set_id,
                profile_id=state.profile_id,
                locality_type=state.locality_type,
                stage=state.stage,
                status=state.status,
                outcome=state.outcome,
                verdict=state.verdict.model_dump(mode="json") if state.verdict else None,
                last_seq=state.seq,
                on_hold=state.on_hold,
                problem=state.problem,
            ),
            transition=transition,
            workflow_id=workflow_id,
            run_id=run_id,
            actor_id=actor_id,
            actor_role=actor_role,
            update_id=update_id,
            completed_task=completed,
            new_task=NewTask.of(transition.new_task),
            task_update=TaskUpdate.of(transition.task_update),
            cancelled_task_id=transition.cancelled_task_id,
        )


class RecognitionHistoryInput(_Payload):
    unit_code: str
    round_id: str


class RecognitionHistory(_Payload):
    """The unit's closed rounds before this one, oldest first."""

    rounds: list[RoundResult]


class RecordTransitionResult(_Payload):
    """What recording a transition wrote besides the read model: the outbox ids the workflow hands to
    `workflows.notification.dispatch_notifications` (see notify/outbox.py)."""

    outbox_ids: tuple[str, ...] = ()


class OpenRoundRecordInput(_Payload):
    round_id: str
    province_code: str


class RoundUnit(_Payload):
    unit_code: str
    locality_type: LocalityType


class RoundUnits(_Payload):
    profile_id: str
    units: list[RoundUnit]
    outbox_ids: tuple[str, ...] = ()  # the round's announcement, to dispatch (notify/rounds.py)


class OpenCasesInput(_Payload):
    """A batch of a round's cases, opened together in one transaction at the round's `opened_at`."""

    round_id: str
    province_code: str
    rule_set_id: str
    profile_id: str
    opened_at: datetime
    units: list[RoundUnit]


class OpenedCase(_Payload):
    case_id: str
    unit_code: str
    due_at: datetime | None
    outbox_ids: tuple[str, ...] = ()  # the first task's news, dispatched by the case workflow


class OpenedCases(_Payload):
    cases: list[OpenedCase]


class RoundReportRecorded(_Payload):
    outbox_ids: tuple[str, ...] = ()  # the round's closing news, to dispatch (notify/rounds.py)


class ProvincesWithUnits(_Payload):
    codes: list[str]
