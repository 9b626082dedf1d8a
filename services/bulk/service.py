"""Administrators' bulk actions by filter: extend due dates, reassign, remind, hold, release.

Each takes a filter over the open cases of the admin's provinces. `dry_run` counts the matches and samples them,
changing nothing. Otherwise each match is acted on — not one page: the matches are read in batches in case-id order
(keyset, so a case changed by the action is neither skipped nor met twice), each batch acted on concurrently, and
every item's outcome counted (applied, refused by code, failed). A case changes through its workflow's validated
Update (or the `nudge` signal), which journals the change with the admin as actor; the update id is made of the
operation id, so a retry with the same Idempotency-Key changes no case twice.

`ACTIONS` is the one table of actions the API, the pages and the CLI use: each action's request model, its summary,
what it checks once before acting (and of each case), and the act itself.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowHandle

from contracts import Actor, ExtendDueInput, HoldInput, NudgeInput, ReassignInput, ReleaseInput
from domain.access import may_act
from domain.admin import AdminActionError, check_due_horizon
from domain.calendar import due_at
from domain.stages import Role
from infra.settings import get_settings
from services import idempotency
from services.access import Principal, principal_of, require_admin, signed
from services.bulk import queries
from services.bulk.schemas import (
    REFUSALS_SHOWN,
    SAMPLE,
    Action,
    BulkItem,
    BulkRefusal,
    BulkRequest,
    BulkResult,
    ExtendDueRequest,
    HoldRequest,
    ReassignRequest,
    ReleaseRequest,
    RemindRequest,
)
from services.errors import Refusal
from services.updates import UPDATE_ERRORS, refusal
from workflows.case import RecognitionCaseWorkflow

log = structlog.get_logger(__name__)

CONCURRENCY = 20

R = TypeVar("R", bound=BulkRequest)
Precheck = Callable[[BulkItem], tuple[str, str] | None]
"""Why one matched case is refused before anything is sent to it (code, detail), or None."""


async def _no_precheck(session: AsyncSession, principal: Principal, req: Any, now: datetime) -> Precheck | None:
    return None


@dataclass(frozen=True)
class BulkAction(Generic[R]):
    """One bulk action: `prepare` refuses a request outright (raising a Refusal) or answers the check made of each
    matched case; `act(temporal, actor, req, item, update_id)` raises WorkflowUpdateFailedError or RPCError to
    refuse."""

    name: Action
    request: type[R]
    summary: str
    act: Callable[[Client, Actor, R, BulkItem, str], Awaitable[None]]
    prepare: Callable[[AsyncSession, Principal, R, datetime], Awaitable[Precheck | None]] = _no_precheck


def _case(temporal: Client, case_id: str) -> WorkflowHandle[RecognitionCaseWorkflow, Any]:
    return temporal.get_workflow_handle_for(RecognitionCaseWorkflow.run, case_id)


# -- the actions -----------------------------------------------------------------------------------------------------
async def _prepare_extend(
    session: AsyncSession, principal: Principal, req: ExtendDueRequest, now: datetime
) -> Precheck | None:
    horizon = timedelta(days=get_settings().due_horizon_days)
    if req.new_due_at is not None:
        try:
            check_due_horizon(req.new_due_at, now=now, horizon=horizon)
        except AdminActionError as exc:
            raise Refusal(422, "invalid_request", f"new_due_at: {exc}", field="new_due_at") from None
        return None
    assert req.add_working_days is not None

    def movable(item: BulkItem) -> tuple[str, str] | None:
        if item.due_at is None:
            return "no_due_time", f"task {item.task_id} has no due time to move"
        try:
            check_due_horizon(due_at(item.due_at, req.add_working_days or 0), now=now, horizon=horizon)
        except AdminActionError as exc:  # counted as the case would refuse it
            return exc.code, f"task {item.task_id}: {exc}"
        return None

    return movable


async def _extend(temporal: Client, actor: Actor, req: ExtendDueRequest, item: BulkItem, update_id: str) -> None:
    new_due = req.new_due_at
    if new_due is None:
        assert item.due_at is not None and req.add_working_days is not None  # the precheck saw to it
        new_due = due_at(item.due_at, req.add_working_days)
    update = signed(
        actor,
        item.case_id,
        ExtendDueInput,
        update_id=update_id,
        reason=req.reason,
        task_id=item.task_id or "",
        new_due_at=new_due,
    )
    await _case(temporal, item.case_id).execute_update(RecognitionCaseWorkflow.extend_due, update, id=update_id)


async def _prepare_reassign(
    session: AsyncSession, principal: Principal, req: ReassignRequest, now: datetime
) -> Precheck | None:
    require_admin(principal, req.filter.province)
    assignee = await principal_of(session, req.official_id)
    if assignee is None:
        raise Refusal(422, "invalid_request", f"official_id: no active official {req.official_id}", field="official_id")

    def holds_role(item: BulkItem) -> tuple[str, str] | None:
        if item.role and not may_act(assignee.scopes, Role(item.role), item.unit_code, item.province_code):
            return (
                "assignee_lacks_role",
                f"official {req.official_id} does not hold role {item.role} for unit {item.unit_code}",
            )
        return None

    return holds_role


async def _reassign(temporal: Client, actor: Actor, req: ReassignRequest, item: BulkItem, update_id: str) -> None:
    update = signed(
        actor,
        item.case_id,
        ReassignInput,
        update_id=update_id,
        reason=req.reason,
        task_id=item.task_id or "",
        official_id=req.official_id,
    )
    await _case(temporal, item.case_id).execute_update(RecognitionCaseWorkflow.reassign, update, id=update_id)


async def _remind(temporal: Client, actor: Actor, req: RemindRequest, item: BulkItem, update_id: str) -> None:
    # A signal has no update id: the nudge's assertion names this one, which the case takes once (a retried run
    # under the same Idempotency-Key reminds once).
    nudge = signed(actor, item.case_id, NudgeInput, update_id=update_id, task_id=item.task_id or "")
    await _case(temporal, item.case_id).signal(RecognitionCaseWorkflow.nudge, nudge)


async def _hold(temporal: Client, actor: Actor, req: HoldRequest, item: BulkItem, update_id: str) -> None:
    update = signed(actor, item.case_id, HoldInput, update_id=update_id, reason=req.reason)
    await _case(temporal, item.case_id).execute_update(RecognitionCaseWorkflow.hold, update, id=update_id)


async def _release(temporal: Client, actor: Actor, req: ReleaseRequest, item: BulkItem, update_id: str) -> None:
    update = signed(actor, item.case_id, ReleaseInput, update_id=update_id, reason=req.reason)
    await _case(temporal, item.case_id).execute_update(RecognitionCaseWorkflow.release, update, id=update_id)


ACTIONS: dict[Action, BulkAction[Any]] = {
    a.name: a
    for a in (
        BulkAction(
            "extend_due",
            ExtendDueRequest,
            "Move the due time of every matched open task",
            _extend,
            _prepare_extend,
        ),
        BulkAction(
            "reassign", ReassignRequest, "Give every matched open task to one official", _reassign, _prepare_reassign
        ),
        BulkAction("remind", RemindRequest, "Send whoever holds each matched open task a reminder now", _remind),
        BulkAction("hold", HoldRequest, "Put every matched case on hold (deadlines pause)", _hold),
        BulkAction("release", ReleaseRequest, "Release every matched case on hold", _release),
    )
}


# -- the engine ------------------------------------------------------------------------------------------------------
class _Outcomes:
    """What the walk met and what became of each case."""

    def __init__(self) -> None:
        self.matched = 0
        self.batches = 0
        self.sample: list[BulkItem] = []
        self.applied = 0
        self.refused: Counter[str] = Counter()
        self.failed = 0
        self.shown: list[BulkRefusal] = []

    def met(self, items: list[BulkItem]) -> None:
        self.batches += 1
        self.matched += len(items)
        self.sample += items[: SAMPLE - len(self.sample)]

    def refuse(self, case_id: str, code: str, detail: str, *, failure: bool = False) -> None:
        if failure:
            self.failed += 1
        else:
            self.refused[code] += 1
        if len(self.shown) < REFUSALS_SHOWN:
            self.shown.append(BulkRefusal(case_id=case_id, code=code, detail=detail))

    async def settle(
        self, item: BulkItem, why: tuple[str, str] | None, act: Callable[[BulkItem], Awaitable[None]]
    ) -> None:
        """Act on one case unless its precheck refused it; count the outcome."""
        if why is not None:
            self.refuse(item.case_id, *why)
            return
        try:
            await act(item)
        except UPDATE_ERRORS as exc:
            problem = refusal(exc, case_id=item.case_id)
            self.refuse(item.case_id, problem.code, problem.detail, failure=problem.status >= 500)
            return
        self.applied += 1


async def run(
    session: AsyncSession,
    temporal: Client,
    principal: Principal,
    action: Action,
    req: BulkRequest,
    *,
    idempotency_key: str | None,
    now: datetime,
) -> BulkResult:
    """Act on every case the request's filter matches in the admin's provinces (a dry run: count and sample)."""
    spec = ACTIONS[action]
    if not isinstance(req, spec.request):
        raise TypeError(f"{action} takes a {spec.request.__name__}, not a {type(req).__name__}")
    if not req.dry_run and not req.all and not req.filter.conditions():  # a whole province only when asked for
        raise Refusal(
            422,
            "empty_filter",
            "filter: it names nothing but the province, so it would act on every open case there; narrow it, or "
            "confirm with `all` (a dry run counts them first)",
            field="filter",
        )
    precheck = await spec.prepare(session, principal, req, now)
    stmt = queries.matches(require_admin(principal, req.filter.province), req.filter, action, now)
    if idempotency_key is not None and not req.dry_run:  # one key, one request (a dry run changes nothing)
        route = f"POST /v1/bulk/{action.replace('_', '-')}"
        body = req.model_dump(mode="json")
        await idempotency.claim(session, key=idempotency_key, official_id=principal.official_id, route=route, body=body)
    operation_id = idempotency_key or str(uuid.uuid4())
    actor = Actor(official_id=principal.official_id, scopes=list(principal.scopes))
    gate = asyncio.Semaphore(CONCURRENCY)

    async def act(item: BulkItem) -> None:
        async with gate:
            await spec.act(temporal, actor, req, item, f"bulk-{operation_id}-{action}-{item.case_id}")

    outcomes = _Outcomes()
    last: str | None = None
    while True:
        items = await queries.batch(session, stmt, after=last, size=req.batch_size)
        await session.rollback()  # hold no connection while Temporal works
        if not items:
            break
        outcomes.met(items)
        last = items[-1].case_id
        checked = [(i, precheck(i) if precheck else None) for i in items]
        if req.dry_run:
            for item, why in checked:
                if why is not None:
                    outcomes.refuse(item.case_id, *why)
            continue
        await asyncio.gather(*(outcomes.settle(i, why, act) for i, why in checked))
    return _result(action, req, principal, operation_id, outcomes)


def _result(
    action: Action, req: BulkRequest, principal: Principal, operation_id: str, outcomes: _Outcomes
) -> BulkResult:
    if not req.dry_run:
        log.info(
            "bulk_applied",
            action=action,
            operation_id=operation_id,
            matched=outcomes.matched,
            applied=outcomes.applied,
            refused=dict(outcomes.refused),
            failed=outcomes.failed,
            official_id=principal.official_id,
        )
    return BulkResult(
        action=action,
        dry_run=req.dry_run,
        operation_id=operation_id,
        matched=outcomes.matched,
        sample=outcomes.sample,
        applied=outcomes.applied,
        refused=dict(outcomes.refused),
        failed=outcomes.failed,
        batches=outcomes.batches,
        refusals=outcomes.shown,
    )
