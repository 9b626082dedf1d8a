"""Administrators' actions on a running case, as the case workflow's validated Updates (and the nudge signal).

Each action is a domain function of `domain.admin`: the validator runs it on the case as it stands and refuses what
it refuses, before anything is recorded; the handler runs it again under the case's lock and records it. The actor
must carry a valid assertion (signed by the product's services for this case, this action and this input:
domain/actor_assertion.py) and be an administrator of the case's unit. `RecognitionCaseWorkflow`
(workflows/case.py) takes these handlers, and the assertion check of its own `complete_task`, from
`CaseAdministration`.

The `nudge` signal cannot be refused before it is recorded: a nudge without a valid assertion is dropped by its
handler with a log line (the verdict comes from a local activity, so that replays take the recorded one). A signal
has no update id: the assertion names the nudge's own id, and a nudge whose id the case took already is dropped too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts import (
        Acting,
        Actor,
        AdminActionInput,
        CaseStatus,
        CompletedTask,
        ExtendDueInput,
        HoldInput,
        NudgeInput,
        ReassignInput,
        ReleaseInput,
        WithdrawInput,
    )
    from domain import admin
    from domain.access import may_act
    from domain.actor_assertion import AssertionRefused
    from domain.case import CaseState, Transition
    from domain.procedure import ProcedureProfile
    from domain.stages import Role
    from workflows import actor_keys
    from workflows.case_changes import NUDGE_ACTOR_ASSERTION, NUDGE_TAKEN_ONCE, takes

Change = Callable[[CaseState], tuple[CaseState, Transition]]


def refuse(code: str, message: str, field: str | None = None) -> ApplicationError:
    details = (field,) if field else ()
    return ApplicationError(message, *details, type=code, non_retryable=True)


def given(inp: object, model: type) -> None:
    """Refuse an Update whose argument is not its model: a client may send JSON null, which decodes to None."""
    if not isinstance(inp, model):
        raise refuse("invalid_payload", f"the update takes a {model.__name__} object", "input")


def _with_reason(action: Callable[..., tuple[CaseState, Transition]], inp: AdminActionInput) -> Change:
    """An action that takes nothing but the case, the reason and the time."""
    return lambda s: action(s, reason=inp.reason, now=workflow.now())


class CaseAdministration:
    if TYPE_CHECKING:  # provided by the workflow class
        _lock: asyncio.Lock
        _initial: CaseState
        _nudges_taken: set[str]

        @property
        def state(self) -> CaseState: ...

        @property
        def profile(self) -> ProcedureProfile: ...

        async def _apply(
            self,
            change: Change,
            *,
            actor_id: str | None = None,
            actor_role: Role | None = None,
            completed: CompletedTask | None = None,
        ) -> None: ...

        def _calendar(
            self, fn: Callable[..., tuple[CaseState, Transition]], *args: Any, **kw: Any
        ) -> tuple[CaseState, Transition]: ...

        def status(self) -> CaseStatus: ...

    def _check_actor(self, inp: Acting) -> None:
        """Refuse an Update whose actor the product's services did not vouch for: no assertion or one of an older
        format, a key the worker does not hold, a signature that does not match, another case, target, payload or
        update id, or a time too far from now. Validators only: they run in the Update's context, and once."""
        update = workflow.current_update_info()
        if update is None:  # not in an Update: nothing to bind the assertion to
            raise refuse("unauthenticated", "other_update: the input did not arrive as an Update")
        try:
            actor_keys.check(inp, case_id=self._initial.case_id, update_id=update.id, now=workflow.now())
        except AssertionRefused as exc:
            raise refuse("unauthenticated", f"{exc.reason}: {exc.detail}") from None

    def _check_admin(self, actor: Actor) -> CaseState:
        state = self.state
        if not may_act(actor.scopes, Role.ADMIN, state.unit_code, state.province_code):
            raise refuse("forbidden", f"official {actor.official_id} is not an administrator of unit {state.unit_code}")
        return state

    async def _admin(self, inp: AdminActionInput, change: Change) -> CaseStatus:
        async with self._lock:
            self._check_admin(inp.actor)
            try:
                await self._apply(change, actor_id=inp.actor.official_id, actor_role=Role.ADMIN)
            except admin.AdminActionError as exc:
                raise refuse(exc.code, str(exc), exc.field) from None
            return self.status()

    def _dry_run(self, inp: AdminActionInput, change: Change) -> None:
        self._check_actor(inp)
        state = self._check_admin(inp.actor)
        try:
            change(state)
        except admin.AdminActionError as exc:
            raise refuse(exc.code, str(exc), exc.field) from None

    def _extend(self, inp: ExtendDueInput) -> Change:
        return lambda s: self._calendar(
            admin.extend_due, s, inp.task_id, inp.new_due_at, self.profile, reason=inp.reason
        )

    @staticmethod
    def _reassign(inp: ReassignInput) -> Change:
        return lambda s: admin.reassign(s, inp.task_id, inp.official_id, reason=inp.reason, now=workflow.now())

    @workflow.update
    async def extend_due(self, inp: ExtendDueInput) -> CaseStatus:
        return await self._admin(inp, self._extend(inp))

    @extend_due.validator
    def _validate_extend_due(self, inp: ExtendDueInput) -> None:
        given(inp, ExtendDueInput)
        self._dry_run(inp, self._extend(inp))

    @workflow.update
    async def reassign(self, inp: ReassignInput) -> CaseStatus:
        return await self._admin(inp, self._reassign(inp))

    @reassign.validator
    def _validate_reassign(self, inp: ReassignInput) -> None:
        given(inp, ReassignInput)
        self._dry_run(inp, self._reassign(inp))

    @workflow.update
    async def hold(self, inp: HoldInput) -> CaseStatus:
        return await self._admin(inp, _with_reason(admin.hold, inp))

    @hold.validator
    def _validate_hold(self, inp: HoldInput) -> None:
        given(inp, HoldInput)
        self._dry_run(inp, _with_reason(admin.hold, inp))

    @workflow.update
    async def release(self, inp: ReleaseInput) -> CaseStatus:
        return await self._admin(inp, _with_reason(admin.release, inp))

    @release.validator
    def _validate_release(self, inp: ReleaseInput) -> None:
        given(inp, ReleaseInput)
        self._dry_run(inp, _with_reason(admin.release, inp))

    @workflow.update
    async def withdraw(self, inp: WithdrawInput) -> CaseStatus:
        return await self._admin(inp, _with_reason(admin.withdraw, inp))

    @withdraw.validator
    def _validate_withdraw(self, inp: WithdrawInput) -> None:
        given(inp, WithdrawInput)
        self._dry_run(inp, _with_reason(admin.withdraw, inp))

    @workflow.signal
    async def nudge(self, inp: NudgeInput) -> None:
        """Fire and forget: a reminder now. A nudge that does not fit the case is dropped with a log line."""
        if not isinstance(inp, NudgeInput):  # e.g. JSON null: raising here would fail every workflow task of the case
            workflow.logger.info("nudge ignored: no NudgeInput given")
            return
        async with self._lock:
            if takes(NUDGE_ACTOR_ASSERTION) and not await self._nudge_vouched_for(inp):
                return
            # The marker keeps cases that took nudges before their ids were checked replaying as they ran.
            if takes(NUDGE_TAKEN_ONCE) and not self._nudge_first_time(inp):
                return
            try:
                self._check_admin(inp.actor)
                await self._apply(
                    lambda s: admin.nudge(s, inp.task_id, reason="reminder requested", now=workflow.now()),
                    actor_id=inp.actor.official_id,
                    actor_role=Role.ADMIN,
                )
            except (ApplicationError, admin.AdminActionError) as exc:
                workflow.logger.info("nudge ignored: %s", exc)

    async def _nudge_vouched_for(self, inp: NudgeInput) -> bool:
        try:
            verdict = await workflow.execute_local_activity(
                actor_keys.check_nudge_actor,
                actor_keys.NudgeCheck(nudge=inp, case_id=self._initial.case_id, now=workflow.now()),
                start_to_close_timeout=timedelta(seconds=10),
                retry_policy=RetryPolicy(maximum_attempts=3),
            )
        except ActivityError as exc:  # e.g. a worker that does not run the check: no verdict, no nudge
            workflow.logger.info("nudge ignored: its actor could not be checked: %s", exc)
            return False
        if verdict.reason is not None:
            workflow.logger.info("nudge ignored: unauthenticated: %s: %s", verdict.reason, verdict.detail)
        return verdict.reason is None

    def _nudge_first_time(self, inp: NudgeInput) -> bool:
        """Take a vouched nudge's id (the one its assertion names: a signal has none of its own) once; the same
        nudge sent again is dropped."""
        nudge_id = inp.actor.assertion.update_id if inp.actor.assertion else None
        if nudge_id is None:
            return True
        if nudge_id in self._nudges_taken:
            workflow.logger.info("nudge ignored: nudge %s was taken already", nudge_id)
            return False
        self._nudges_taken.add(nudge_id)
        return True
