"""RecognitionCaseWorkflow: one per (unit, round), from registration to the decision and the commendation check.

Orchestration only: the rules are domain functions, the writes are activities. Human input arrives as the
`complete_task` Update; its validator refuses a wrong role, another unit, a task that is not open or a bad form
before anything is recorded.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey, SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ApplicationError

from workflows.notification import dispatch_notifications

with workflow.unsafe.imports_passed_through():
    from activities.archive_inputs import ArchiveHistoryInput, ArchiveHistoryResult
    from activities.inputs import (
        CaseSnapshot,
        CompletedTask,
        NewTask,
        RecognitionHistory,
        RecognitionHistoryInput,
        RecordTransitionInput,
        RecordTransitionResult,
    )
    from domain.access import may_act
    from domain.calendar import due_at
    from domain.case import CaseState, Transition, close_after_commendation_check, complete_stage, open_case
    from domain.errors import DomainError
    from domain.forms import Form, FormError, parse_form
    from domain.procedure import ProcedureProfile, load_profile
    from domain.rulesets import RuleSet, load_rule_set
    from domain.stages import Outcome, Role, Stage
    from domain.streaks import RoundResult, commendation_due
    from workflows.inputs import (
        CaseResult,
        CaseStatus,
        CompleteTaskInput,
        CompleteTaskResult,
        StartCaseInput,
        TaskView,
    )

STAGE = SearchAttributeKey.for_keyword("Stage")
UNIT_CODE = SearchAttributeKey.for_keyword("UnitCode")
PROVINCE_CODE = SearchAttributeKey.for_keyword("ProvinceCode")
ROUND_ID = SearchAttributeKey.for_keyword("RoundId")
DUE_AT = SearchAttributeKey.for_datetime("DueAt")

ACTIVITY_TIMEOUT = timedelta(seconds=30)
ACTIVITY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))


def case_search_attributes(inp: StartCaseInput) -> TypedSearchAttributes:
    """Set when the case starts; no personal data goes here."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(STAGE, Stage.REGISTRATION.value),
            SearchAttributePair(UNIT_CODE, inp.unit_code),
            SearchAttributePair(PROVINCE_CODE, inp.province_code),
            SearchAttributePair(ROUND_ID, inp.round_id),
        ]
    )


@workflow.defn
class RecognitionCaseWorkflow:
    def __init__(self) -> None:
        self._state: CaseState | None = None
        self._rule_set: RuleSet | None = None
        self._profile: ProcedureProfile | None = None
        self._open_task: TaskView | None = None
        self._lock = asyncio.Lock()

    # -- the procedure ---------------------------------------------------------------------------------------------
    @workflow.run
    async def run(self, inp: StartCaseInput) -> CaseResult:
        self._rule_set = load_rule_set(inp.rule_set_id)
        self._profile = load_profile(inp.profile_id)
        initial = CaseState(
            case_id=inp.case_id,
            unit_code=inp.unit_code,
            province_code=inp.province_code,
            round_id=inp.round_id,
            rule_set_id=inp.rule_set_id,
            profile_id=inp.profile_id,
            locality_type=inp.locality_type,
        )
        async with self._lock:
            state, transition = open_case(initial, now=workflow.now())
            await self._record(state, transition)

        await workflow.wait_condition(lambda: self.state.stage in (Stage.COMMENDATION, Stage.CLOSED))
        if self.state.stage == Stage.COMMENDATION:
            async with self._lock:
                await self._check_commendation()
        await workflow.wait_condition(workflow.all_handlers_finished)
        if workflow.patched("archive-history-at-close"):
            # Keep the history in PostgreSQL beyond Temporal's retention. It ends here: a history cannot hold its
            # own completion (`xptt audit archive` stores the complete one later; activities/archive.py).
            info = workflow.info()
            await workflow.execute_activity(
                "archive_history",
                ArchiveHistoryInput(case_id=self.state.case_id, workflow_id=info.workflow_id, run_id=info.run_id),
                result_type=ArchiveHistoryResult,
                start_to_close_timeout=timedelta(minutes=2),
                retry_policy=ACTIVITY_RETRY,
            )
        return CaseResult(case_id=self.state.case_id, outcome=self.state.outcome)

    async def _check_commendation(self) -> None:
        history: RecognitionHistory = await workflow.execute_activity(
            "load_recognition_history",
            RecognitionHistoryInput(unit_code=self.state.unit_code, round_id=self.state.round_id),
            result_type=RecognitionHistory,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )
        rounds = [*history.rounds, RoundResult(round_id=self.state.round_id, recognised=True)]
        level = commendation_due(rounds, self.profile)
        found = None if level is None else level.model_dump(mode="json")
        state, transition = close_after_commendation_check(self.state, commendation=found, now=workflow.now())
        await self._record(state, transition)

    # -- human input -----------------------------------------------------------------------------------------------
    @workflow.update
    async def complete_task(self, inp: CompleteTaskInput) -> CompleteTaskResult:
        async with self._lock:
            # Re-checked under the lock: an earlier update may have moved the case since validation.
            form = self._check(inp)
            state, transition = complete_stage(self.state, form, rule_set=self.rule_set, now=workflow.now())
            role = self.profile.stage(self.state.stage).role
            info = workflow.current_update_info()
            await self._record(
                state,
                transition,
                actor_id=inp.actor.official_id,
                actor_role=role,
                update_id=info.id if info else None,
                completed=CompletedTask(
                    task_id=inp.task_id, completed_by=inp.actor.official_id, completion=dict(inp.payload)
                ),
            )
            return CompleteTaskResult(
                case_id=state.case_id,
                completed_task_id=inp.task_id,
                stage=state.stage,
                status=state.status,
                outcome=state.outcome,
                next_task=self._open_task,
            )

    @complete_task.validator
    def _validate_complete_task(self, inp: CompleteTaskInput) -> None:
        self._check(inp)

    def _check(self, inp: CompleteTaskInput) -> Form:
        state = self._state
        task = self._open_task
        if state is None or task is None or state.status != "open":
            raise ApplicationError("the case has no open task", type="task_not_open", non_retryable=True)
        if inp.task_id != task.task_id:
            raise ApplicationError(
                f"task {inp.task_id} is not the open task of this case ({task.task_id})",
                type="task_not_open",
                non_retryable=True,
            )
        if not may_act(inp.actor.scopes, task.role, state.unit_code, state.province_code):
            raise ApplicationError(
                f"official {inp.actor.official_id} does not hold role {task.role.value} for unit {state.unit_code}",
                type="forbidden",
                non_retryable=True,
            )
        try:
            with workflow.unsafe.sandbox_unrestricted():  # posting days are counted on the holiday calendar
                return parse_form(task.stage, inp.payload, state.form_context(self.rule_set, self.profile))
        except FormError as exc:
            raise ApplicationError(exc.reason, exc.field, type="invalid_payload", non_retryable=True) from None
        except DomainError as exc:
            raise ApplicationError(str(exc), type="invalid_payload", non_retryable=True) from None

    @workflow.query
    def status(self) -> CaseStatus:
        state = self.state
        return CaseStatus(
            case_id=state.case_id,
            stage=state.stage,
            status=state.status,
            outcome=state.outcome,
            open_task=self._open_task,
        )

    # -- recording -------------------------------------------------------------------------------------------------
    async def _record(
        self,
        state: CaseState,
        transition: Transition,
        *,
        actor_id: str | None = None,
        actor_role: Role | None = None,
        update_id: str | None = None,
        completed: CompletedTask | None = None,
    ) -> None:
        """Project the transition (one activity, one transaction), then make it the case's state."""
        new_task: NewTask | None = None
        if state.status == "open" and state.stage != Stage.COMMENDATION:
            spec = self.profile.stage(state.stage)
            # The holiday calendar is deterministic data, but the `holidays` package touches the locale when it
            # builds a year: let it, outside the sandbox's restrictions.
            with workflow.unsafe.sandbox_unrestricted():
                due = due_at(transition.occurred_at, spec.working_days)
            new_task = NewTask(task_id=state.task_id(), stage=state.stage, role=spec.role, due_at=due)
        info = workflow.info()
        recorded = await workflow.execute_activity(
            "record_transition",
            RecordTransitionInput(
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
                ),
                transition=transition,
                workflow_id=info.workflow_id,
                run_id=info.run_id,
                actor_id=actor_id,
                actor_role=actor_role,
                update_id=update_id,
                completed_task=completed,
                new_task=new_task,
            ),
            result_type=RecordTransitionResult,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )
        self._state = state
        self._open_task = (
            None
            if new_task is None
            else TaskView(task_id=new_task.task_id, stage=new_task.stage, role=new_task.role, due_at=new_task.due_at)
        )
        # After the state is the case's: an update racing the deliveries' start sees the new open task.
        if recorded is not None:  # None in histories recorded before notifications existed
            await dispatch_notifications(recorded.outbox_ids)
        workflow.upsert_search_attributes(
            [
                STAGE.value_set(state.stage.value),
                DUE_AT.value_set(new_task.due_at) if new_task and new_task.due_at else DUE_AT.value_unset(),
            ]
        )
        if state.outcome is not None and state.status == "closed":
            workflow.logger.info("case closed with outcome %s", state.outcome.value)

    # -- accessors ---------------------------------------------------------------------------------------------------
    @property
    def state(self) -> CaseState:
        if self._state is None:
            raise ApplicationError("the case has not started yet", type="not_started")
        return self._state

    @property
    def rule_set(self) -> RuleSet:
        assert self._rule_set is not None
        return self._rule_set

    @property
    def profile(self) -> ProcedureProfile:
        assert self._profile is not None
        return self._profile


__all__ = ["Outcome", "RecognitionCaseWorkflow", "case_search_attributes"]
