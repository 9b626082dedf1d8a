"""What crosses the Temporal boundary: one frozen pydantic model per workflow input, update, signal, query result,
activity input and activity result, shared by the workflows, the activities and every client.

New fields get defaults, so histories recorded by older code still load and replay. A payload that is the same
thing as a domain type is that type (a case's identity, a case's standing for its round).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar, Required, Self, TypedDict, Unpack

from pydantic import BaseModel, ConfigDict, Field

from domain.access import RoleScope
from domain.actor_assertion import ActorAssertion, target_of
from domain.attributes import from_row
from domain.case import CaseIdentity, CaseState, Transition
from domain.merger import RoundBasis
from domain.round_calendar import CaseCalendar
from domain.round_report import CaseStanding
from domain.stages import LocalityType, Outcome, Role, Stage
from domain.streaks import RoundResult
from domain.tasks import OpenTask


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True)


# -- the case workflow -------------------------------------------------------------------------------------------------
class StartCaseInput(CaseIdentity):
    """A case workflow's input: the case's identity and, when its round opened it, that opening."""

    # Set when the round recorded the opening in bulk (activities/round_store.py record_cases_opened): the case
    # takes the state that opening gives and sends the first task's news; None: the case records its own opening.
    opened_at: datetime | None = None
    outbox_ids: tuple[str, ...] = ()
    # The round's calendar for its cases (domain/round_calendar.py), fixed at the start so that later changes of
    # the calendar's data never move a running case; None (cases started before it existed): the profile's days.
    calendar: CaseCalendar | None = None
    # Set by rounds that hear a case's end from its result (CaseResult.standing): the case then signals its round
    # nothing on the way. False (cases of rounds started before): the case signals its round at each milestone.
    round_hears_result: bool = False


class Actor(_Payload):
    """The official acting, the role assignments the API read for them, and the assertion (domain/actor_assertion.py)
    binding them to one case, target, payload and update id, signed by services/access.py; refused without it."""

    official_id: str = Field(min_length=1)
    scopes: list[RoleScope]
    assertion: ActorAssertion | None = None


class Acting(_Payload):
    """An input that carries the acting official. `UPDATE` names the Update (or signal) it is the input of; the
    assertion is for `target()` and for `signed_content()`, the input without its actor."""

    UPDATE: ClassVar[str]

    actor: Actor

    def target(self) -> str:
        task_id = getattr(self, "task_id", None)
        return target_of(self.UPDATE, task_id if isinstance(task_id, str) else None)

    def signed_content(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"actor"})


class CompleteTaskInput(Acting):
    UPDATE = "complete_task"

    task_id: str
    payload: dict[str, Any]


class NewTask(_Payload):
    task_id: str
    stage: Stage
    role: Role
    due_at: datetime | None

    @classmethod
    def of(cls, task: OpenTask | None) -> Self | None:
        return None if task is None else from_row(cls, task)


class TaskView(NewTask):
    """The open task as clients see it: who acts by when, how far it has escalated, who holds it."""

    escalation_level: int = 0
    escalated_to: Role | None = None
    assignee_id: str | None = None


class CompleteTaskResult(_Payload):
    case_id: str
    completed_task_id: str
    stage: Stage
    status: str
    outcome: Outcome | None
    next_task: TaskView | None


class CaseStatus(_Payload):
    case_id: str
    stage: Stage
    status: str
    outcome: Outcome | None
    open_task: TaskView | None
    on_hold: bool = False
    problem: str | None = None
    waiting_until: datetime | None = None  # registered and striving: the next stage's task opens then


# Where a case stands, as its round counts it: in the case's result at its end, or (cases of rounds started before)
# signalled at each milestone.
CaseProgress = CaseStanding


class CaseResult(_Payload):
    case_id: str
    outcome: Outcome | None
    # The case's final standing as its round counts it (None in results recorded before rounds read it from here).
    standing: CaseProgress | None = None


# -- administrators' actions on a running case (validated Updates; the actor must be an admin of the province) ---------
class AdminActionInput(Acting):
    reason: str = Field(min_length=1, max_length=2000)


class ExtendDueInput(AdminActionInput):
    """Move the open task's due date; the deadline wait re-arms from the new time."""

    UPDATE = "extend_due"

    task_id: str
    new_due_at: datetime


class ReassignInput(AdminActionInput):
    """Give the open task to one named official (who must hold the task's role over the unit)."""

    UPDATE = "reassign"

    task_id: str
    official_id: str = Field(min_length=1)


class HoldInput(AdminActionInput):
    """Put the case on hold: deadlines pause until release."""

    UPDATE = "hold"


class ReleaseInput(AdminActionInput):
    """Release a case on hold: the open task's due time moves by the time spent on hold."""

    UPDATE = "release"


class WithdrawInput(AdminActionInput):
    """Withdraw the case from the round, with a reason; it closes as withdrawn."""

    UPDATE = "withdraw"


class NudgeInput(Acting):
    """Signal: send the open task's assignee a reminder now (fire and forget)."""

    UPDATE = "nudge"

    task_id: str


# -- the case's activities ---------------------------------------------------------------------------------------------
class CaseSnapshot(CaseIdentity):
    """The case as the read model stores it after a transition."""

    stage: Stage
    status: str
    outcome: Outcome | None
    verdict: dict[str, Any] | None
    last_seq: int
    on_hold: bool = False
    problem: str | None = None
    waiting_until: datetime | None = None


class CompletedTask(_Payload):
    task_id: str
    completed_by: str
    completion: dict[str, Any]


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
        return None if task is None else from_row(cls, task, stuck=task.final_applied)


class Recorder(TypedDict, total=False):
    """Which run recorded a transition, for whom: RecordTransitionInput's fields of these names."""

    workflow_id: Required[str]
    run_id: Required[str | None]
    actor_id: str | None
    actor_role: Role | None
    update_id: str | None


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
        completed: CompletedTask | None = None,
        **recorder: Unpack[Recorder],
    ) -> RecordTransitionInput:
        """What recording `transition` (which took the case to `state`) writes."""
        verdict = state.verdict.model_dump(mode="json") if state.verdict else None
        return cls(
            case=from_row(CaseSnapshot, state, verdict=verdict, last_seq=state.seq),
            transition=transition,
            completed_task=completed,
            new_task=NewTask.of(transition.new_task),
            task_update=TaskUpdate.of(transition.task_update),
            cancelled_task_id=transition.cancelled_task_id,
            **recorder,
        )


class RecognitionHistoryInput(_Payload):
    unit_code: str
    round_id: str


class RecognitionHistory(_Payload):
    """The unit's rounds before this one, oldest first: its closed cases, and past rounds imported for it or its
    predecessors (merged units) under the merger policy; `basis` says per round where the result comes from and which
    predecessors counted (empty in histories recorded before it existed)."""

    rounds: list[RoundResult]
    basis: tuple[RoundBasis, ...] = ()


class RecordTransitionResult(_Payload):
    """What recording a transition wrote besides the read model: the outbox ids the workflow hands to
    `workflows.dispatch.dispatch_notifications` (see notify/outbox.py)."""

    outbox_ids: tuple[str, ...] = ()
    # The unit's rounds before this one, read in the transaction of a recognition (the move into the commendation
    # stage), so that the commendation check needs no activity of its own; None otherwise, and in results recorded
    # before (the case then loads it with `load_recognition_history`).
    recognition_history: RecognitionHistory | None = None


class ArchiveHistoryInput(_Payload):
    case_id: str
    workflow_id: str
    run_id: str | None = None  # None: the latest run


class ArchiveHistoryResult(_Payload):
    case_id: str
    workflow_id: str
    run_id: str
    sha256: str  # of the stored version
    event_count: int  # of the stored version
    complete: bool  # the stored version holds the execution's close event
    replaced: bool  # this call stored its fetch (first archive, or longer than the one stored)


# -- rounds ------------------------------------------------------------------------------------------------------------
class OpenRoundInput(_Payload):
    round_id: str
    province_code: str
    target_share: float | None = Field(default=None, ge=0, le=1)  # None: domain.round_report.DEFAULT_TARGET_SHARE
    concurrency: int = Field(default=20, ge=1, le=500)  # case starts in flight at once
    closes_at: datetime | None = None  # None: when every case has closed
    # A rehearsal (the dev stack's demo round, tests): the round's calendar moved whole so that self-assessment
    # opens on this day (domain/round_calendar.py CaseCalendar.rehearsed); None: the calendar the law keeps.
    rehearsal_opens_on: date | None = None


class ScheduledRoundsInput(_Payload):
    province_codes: list[str] = Field(default_factory=list)  # empty: every province with units
    concurrency: int = Field(default=20, ge=1, le=500)


class ScheduledRoundsResult(_Payload):
    round_id: str | None
    started: list[str]


class AbsenceHandoverInput(_Payload):
    """The daily hand-over of absent officials' open tasks to their deputies (services/officials/absences.py)."""


class AbsenceHandoverResult(_Payload):
    leaves: int  # leaves in force today
    reassigned: int
    left_open: int


class OpenRoundRecordInput(_Payload):
    round_id: str
    province_code: str
    rehearsal_opens_on: date | None = None


class RoundUnit(_Payload):
    unit_code: str
    locality_type: LocalityType


class RoundUnits(_Payload):
    profile_id: str
    units: list[RoundUnit]
    outbox_ids: tuple[str, ...] = ()  # the round's announcement, to dispatch (notify/rounds.py)
    calendar: CaseCalendar | None = None  # the round's calendar in the province (None in older histories)


class OpenCasesInput(_Payload):
    """A batch of a round's cases, opened together in one transaction at the round's `opened_at`."""

    round_id: str
    province_code: str
    rule_set_id: str
    profile_id: str
    opened_at: datetime
    units: list[RoundUnit]
    calendar: CaseCalendar | None = None


class OpenedCase(_Payload):
    case_id: str
    unit_code: str
    due_at: datetime | None
    outbox_ids: tuple[str, ...] = ()  # the first task's news, dispatched by the case workflow


class OpenedCases(_Payload):
    cases: list[OpenedCase]


class RoundMilestonesInput(_Payload):
    round_id: str
    province_code: str


class RoundMilestones(_Payload):
    """The round's cases that registered and that filed their dossier, from the journal."""

    registered: tuple[str, ...] = ()
    submitted: tuple[str, ...] = ()


class CaseStandingInput(_Payload):
    case_id: str


class RoundReportRecorded(_Payload):
    outbox_ids: tuple[str, ...] = ()  # the round's closing news, to dispatch (notify/rounds.py)


class ProvincesWithUnits(_Payload):
    codes: list[str]
