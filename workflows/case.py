"""RecognitionCaseWorkflow: one per (unit, round), from registration to the decision and the commendation.

Orchestration only: the rules are domain functions, the writes are activities. Human input arrives as Updates whose
validators refuse an actor the product's services did not vouch for (domain/actor_assertion.py), a wrong role,
another unit, a task that is not open or a bad form before anything is recorded (administrators' actions:
workflows/case_admin.py).
Deadlines act: the main loop sleeps until the open task's next deadline (reminder, escalation rung, final policy)
and wakes early whenever the case changes, so a moved due date or a hold re-arms the wait.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.archive import HistoryArchive
    from activities.case_store import CaseStore
    from contracts import (
        ArchiveHistoryInput,
        CaseProgress,
        CaseResult,
        CaseStatus,
        CompletedTask,
        CompleteTaskInput,
        CompleteTaskResult,
        RecognitionHistory,
        RecognitionHistoryInput,
        RecordTransitionInput,
        StartCaseInput,
        TaskView,
    )
    from domain.access import may_act
    from domain.authority import authority_changed
    from domain.case import CaseState, Transition, commendation_checked, complete_stage, open_case, stage_opened
    from domain.deadlines import deadline_passed, next_deadline
    from domain.errors import DomainError
    from domain.forms import Form, FormError, parse_form
    from domain.merger import explain_streak
    from domain.procedure import ProcedureProfile, load_profile
    from domain.rounds import parse_round
    from domain.rulesets import RuleSet, load_rule_set
    from domain.stages import Role, Stage
    from domain.streaks import RoundResult, commendation_due
    from workflows.case_attrs import (
        STAGE,
        UNIT_CODE,
        Shown,
        at_start,
        attribute_updates,
        case_search_attributes,
        milestone,
        progress,
        shown,
    )
    from workflows.case_changes import (
        ARCHIVE_HISTORY_AT_CLOSE,
        CHANGED_ATTRIBUTES_ONLY,
        HISTORY_WITH_RECOGNITION,
        PROGRESS_AT_MILESTONES,
        STRICT_FORM_INPUTS,
        takes,
    )
    from workflows.dispatch import dispatch_notifications

from workflows.case_admin import CaseAdministration, Change, given, refuse

ACTIVITY_TIMEOUT = timedelta(seconds=30)
ACTIVITY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))

__all__ = ["STAGE", "UNIT_CODE", "RecognitionCaseWorkflow", "case_search_attributes"]


@workflow.defn
class RecognitionCaseWorkflow(CaseAdministration):
    @workflow.init
    def __init__(self, inp: StartCaseInput) -> None:
        """Before any handler runs: an Update that arrives with the case's first task (the round's inbox shows it
        before the case workflow runs) finds the case already open on that task."""
        self._rule_set: RuleSet | None = load_rule_set(inp.rule_set_id)
        self._year = parse_round(inp.round_id).year
        self._days = inp.calendar  # the round's calendar, fixed at the start (None: the profile's days alone)
        self._version = 0  # bumped on every recorded transition: wakes the deadline wait
        self._lock = asyncio.Lock()
        self._initial = CaseState(**inp.identity())
        self._nudges_taken: set[str] = set()  # the ids of the nudges taken (workflows/case_admin.py)
        self._state: CaseState | None = None
        self._recording: CaseState | None = None  # the state a transition being recorded leads to
        # What the round last heard from this case (see _report_progress); a case its round opened starts where the
        # round's own first standing of it does.
        self._reported: tuple[object, ...] | None = None
        self._round_hears_result = inp.round_hears_result  # then the round hears nothing before the case's end
        self._standing: CaseProgress | None = None  # where the case stands after its last transition
        # What the case's search attributes hold (None: not known; every value is written at the next transition).
        self._shown: Shown | None = None
        # The unit's past rounds, as the last transition's recording returned them (a recognition's only).
        self._history: RecognitionHistory | None = None
        if inp.opened_at is not None:
            # Opened by its round, which recorded the opening in bulk at `opened_at`: the same pure function gives
            # the same first task here, and there is nothing to record.
            with workflow.unsafe.sandbox_unrestricted():  # the holiday calendar
                self._state, _ = open_case(
                    self._initial, profile=self.profile, year=self._year, now=inp.opened_at, calendar=self._days
                )
            self._version = 1
            self._standing = progress(self._state, "case_opened")
            self._reported = milestone(self._standing)
            self._shown = at_start(self._state.task.due_at if self._state.task else None)  # as its round started it

    # -- the procedure ---------------------------------------------------------------------------------------------
    @workflow.run
    async def run(self, inp: StartCaseInput) -> CaseResult:
        if inp.opened_at is not None:
            await dispatch_notifications(inp.outbox_ids)  # the first task's news, written by the round
        else:
            self._state = self._initial  # not yet recorded: no task is open, so every update is refused until it is
            async with self._lock:
                await self._apply(lambda s: self._calendar(open_case, s, **self._terms()))

        while self.state.status == "open":
            if self.state.stage == Stage.COMMENDATION and not self.state.commendation_checked:
                async with self._lock:
                    await self._check_commendation()
                continue
            await self._await_next_deadline()
        await workflow.wait_condition(workflow.all_handlers_finished)
        if takes(ARCHIVE_HISTORY_AT_CLOSE):
            # Keep the history in PostgreSQL beyond Temporal's retention. It ends here: a history cannot hold its
            # own completion (`xptt audit archive` stores the complete one later; activities/archive.py).
            info = workflow.info()
            await workflow.execute_activity_method(
                HistoryArchive.archive_history,
                ArchiveHistoryInput(case_id=self.state.case_id, workflow_id=info.workflow_id, run_id=info.run_id),
                start_to_close_timeout=timedelta(minutes=2),
                retry_policy=ACTIVITY_RETRY,
            )
        return CaseResult(case_id=self.state.case_id, outcome=self.state.outcome, standing=self._standing)

    async def _await_next_deadline(self) -> None:
        """Sleep until the case's next event and apply it, unless the case changes first (then return, so the caller
        looks again: a moved due date, a hold or a completion re-arms the wait). The events: the open task's next
        deadline, the day the stage the case waits for opens, the end of the profile it runs under."""
        version = self._version
        upcoming = self._next_event()
        if upcoming is None:
            await workflow.wait_condition(lambda: self._version != version)
            return
        at, change = upcoming
        delay = at - workflow.now()
        if delay > timedelta(0):
            try:
                await workflow.wait_condition(lambda: self._version != version, timeout=delay)
                return
            except TimeoutError:
                pass
        async with self._lock:
            if self._version != version:
                return  # the case moved while the time came
            await self._apply(change)

    def _next_event(self) -> tuple[datetime, Change] | None:
        state = self.state
        events: list[tuple[datetime, Change]] = []
        upcoming = next_deadline(state.task, on_hold=state.on_hold)
        if upcoming is not None:
            at, kind = upcoming
            spec = self.profile.stage(state.stage)
            events.append((at, lambda s: self._calendar(deadline_passed, s, kind, spec)))
        if state.waiting_until is not None and not state.on_hold:
            events.append((state.waiting_until, lambda s: self._calendar(stage_opened, s, **self._terms())))
        handover = self._days.change_after(state.profile_id) if self._days else None
        if handover is not None:
            successor = load_profile(handover.to_profile)
            events.append((handover.at(), lambda s: self._calendar(authority_changed, s, handover, successor)))
        return min(events, key=lambda e: e[0]) if events else None

    def _terms(self) -> dict[str, Any]:
        """What a domain function that opens a task needs besides the state and the time."""
        return {"profile": self.profile, "year": self._year, "calendar": self._days}

    async def _check_commendation(self) -> None:
        # The history the recognition's recording returned; loaded apart when its result has none (recorded before).
        history = self._history
        # Behind a marker: a history whose recording returned the rounds to code that loaded them anyway replays
        # with that load.
        if history is None or not takes(HISTORY_WITH_RECOGNITION):
            history = await workflow.execute_activity_method(
                CaseStore.load_recognition_history,
                RecognitionHistoryInput(unit_code=self.state.unit_code, round_id=self.state.round_id),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=ACTIVITY_RETRY,
            )
        rounds = [*history.rounds, RoundResult(round_id=self.state.round_id, recognised=True)]
        level = commendation_due(rounds, self.profile)
        # The basis (why each round counts: merged units' predecessors) only adds to the transition's details.
        streak = explain_streak(history.basis, self.state.round_id) if history.basis else None
        await self._apply(lambda s: self._calendar(commendation_checked, s, level, streak=streak, **self._terms()))

    def _calendar(
        self, fn: Callable[..., tuple[CaseState, Transition]], *args: Any, **kw: Any
    ) -> tuple[CaseState, Transition]:
        """Run a domain function that reads the holiday calendar: deterministic data, but the `holidays` package
        touches the locale when it builds a year, which the sandbox would refuse."""
        with workflow.unsafe.sandbox_unrestricted():
            return fn(*args, now=workflow.now(), **kw)

    # -- officials' tasks ------------------------------------------------------------------------------------------
    @workflow.update
    async def complete_task(self, inp: CompleteTaskInput) -> CompleteTaskResult:
        async with self._lock:
            form = self._check_completion(inp)  # again under the lock: an earlier update may have moved the case
            role = self.state.acting_role(self.profile)
            completion = CompletedTask(
                task_id=inp.task_id, completed_by=inp.actor.official_id, completion=dict(inp.payload)
            )
            await self._apply(
                lambda s: self._calendar(complete_stage, s, form, rule_set=self.rule_set, **self._terms()),
                actor_id=inp.actor.official_id,
                actor_role=role,
                completed=completion,
            )
            state = self.state
            return CompleteTaskResult(
                case_id=state.case_id,
                completed_task_id=inp.task_id,
                stage=state.stage,
                status=state.status,
                outcome=state.outcome,
                next_task=TaskView.of(state.task),
            )

    @complete_task.validator
    def _validate_complete_task(self, inp: CompleteTaskInput) -> None:
        given(inp, CompleteTaskInput)
        self._check_actor(inp)  # the product's services vouch for the actor, this task and this form
        # Against the transition being recorded, if one is: its new task is in the inbox as soon as the recording
        # commits, before the workflow hears back, and an official may act on it at once. The handler checks again
        # under the lock, once that transition is the case's state.
        self._check_completion(inp, self._recording or self._state)

    def _check_completion(self, inp: CompleteTaskInput, state: CaseState | None = None) -> Form:
        state = state or self._state
        task = state.task if state else None
        if state is None or task is None or state.status != "open":
            raise refuse("task_not_open", "the case has no open task")
        if inp.task_id != task.task_id:
            raise refuse("task_not_open", f"task {inp.task_id} is not the open task of this case ({task.task_id})")
        if state.on_hold:
            raise refuse("case_on_hold", f"case {state.case_id} is on hold; an administrator must release it first")
        if not may_act(inp.actor.scopes, task.role, state.unit_code, state.province_code):
            raise refuse(
                "forbidden",
                f"official {inp.actor.official_id} does not hold role {task.role.value} for unit {state.unit_code}",
            )
        if task.assignee_id is not None and inp.actor.official_id != task.assignee_id:
            raise refuse("forbidden", f"task {task.task_id} is assigned to official {task.assignee_id}")
        # Strict types, and days within the round's calendar: always in the validator (never run on replay); in the
        # handler once the history carries the "strict-form-inputs" marker, so that a case recorded without it
        # replays its forms as they were accepted then.
        strict = workflow.unsafe.is_read_only() or takes(STRICT_FORM_INPUTS)
        try:
            with workflow.unsafe.sandbox_unrestricted():  # posting days are counted on the holiday calendar
                return parse_form(
                    task.stage,
                    inp.payload,
                    state.form_context(self.rule_set, self.profile),
                    now=workflow.now(),
                    period_start=parse_round(state.round_id).period_start,
                    lax=not strict,
                )
        except FormError as exc:
            raise refuse("invalid_payload", exc.reason, exc.field) from None
        except DomainError as exc:
            raise refuse("invalid_payload", str(exc)) from None

    @workflow.query
    def status(self) -> CaseStatus:
        state = self.state
        return CaseStatus(
            case_id=state.case_id,
            stage=state.stage,
            status=state.status,
            outcome=state.outcome,
            open_task=TaskView.of(state.task),
            on_hold=state.on_hold,
            problem=state.problem,
            waiting_until=state.waiting_until,
        )

    # -- recording -------------------------------------------------------------------------------------------------
    async def _apply(
        self,
        change: Change,
        *,
        actor_id: str | None = None,
        actor_role: Role | None = None,
        completed: CompletedTask | None = None,
    ) -> None:
        """Compute the transition, project it (one activity, one transaction), then make it the case's state."""
        current = self._state
        if current is None:
            raise ApplicationError("the case has not started yet", type="not_started")
        state, transition = change(current)
        self._recording = state
        info = workflow.info()
        update_info = workflow.current_update_info()
        record = RecordTransitionInput.of(
            state,
            transition,
            workflow_id=info.workflow_id,
            run_id=info.run_id,
            actor_id=actor_id,
            actor_role=actor_role,
            update_id=update_info.id if update_info else None,
            completed=completed,
        )
        # A recorded activity, never a local one: the update's acceptance and the recording's scheduling are in the
        # history before PostgreSQL shows the next task, so a workflow task lost under load never leaves the inbox
        # ahead of the case.
        recorded = await workflow.execute_activity_method(
            CaseStore.record_transition, record, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=ACTIVITY_RETRY
        )
        changed_only = takes(CHANGED_ATTRIBUTES_ONLY)
        self._history = recorded.recognition_history if recorded is not None else None
        self._state = state
        self._recording = None
        self._version += 1
        # After the state is the case's: an update racing the deliveries' start sees the new open task.
        if recorded is not None:  # None in histories recorded before notifications existed
            await dispatch_notifications(recorded.outbox_ids)
        showing = shown(state)
        updates = attribute_updates(showing, self._shown if changed_only else None)
        if updates:
            workflow.upsert_search_attributes(updates)
        self._shown = showing
        await self._report_progress(transition)

    async def _report_progress(self, transition: Transition) -> None:
        """Keep where the case stands for its round. A round that hears the case's end from its result (the case's
        standing is in it) is told nothing on the way: each signal costs the server, the case and the round a
        workflow task, and counts by stage, escalations and holds come from PostgreSQL (`GET
        /v1/rounds/{id}/progress`). A round started before that is signalled at the milestones it counts:
        registered, dossier submitted, escalated, stuck, on hold or released, closed (with its outcome)."""
        standing = progress(self.state, transition.action)
        self._standing = standing
        parent = workflow.info().parent
        if parent is None or self._round_hears_result:
            return
        if takes(PROGRESS_AT_MILESTONES):
            reached = milestone(standing)
            if reached == self._reported:
                return
            self._reported = reached
        try:
            await workflow.get_external_workflow_handle(parent.workflow_id).signal("case_progress", standing)
        except Exception as exc:  # the round has closed: the case goes on without it
            workflow.logger.info("round %s did not take progress: %s", parent.workflow_id, exc)

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
        """The profile the case runs under now: its successor's after a change of authority (domain/authority.py)."""
        return load_profile((self._state or self._initial).profile_id)
