"""Builders the tests share: a case's identity as each layer holds it (workflow input, read-model snapshot, case
row), a journal entry, a case opened on the running stack and driven through the API, the worker the deployment
runs, and a Temporal dev server with the search attributes."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.archive import HistoryArchive
from activities.case_store import CaseStore
from activities.round_store import RoundStore
from contracts import CaseSnapshot, NewTask, RecordTransitionInput, StartCaseInput
from domain.case import Transition, case_id_for
from domain.rounds import parse_round
from domain.stages import LocalityType, Outcome, Role, Stage
from domain.units import load_units
from infra.embedded import dev_server_args, temporal_binary
from services.seed import seed_units
from tests.support import HUMAN_PATH, PROVINCE, ROUND_ID, Stack, form_for, running_stack
from worker import build_worker
from workflows.registry import audit_activities, case_activities, round_activities

# The human stages of a case that goes all the way, with the role (as the API names it) that completes each.
HUMAN_STAGES = [(stage, role.value) for stage, role in HUMAN_PATH]

# -- a case's identity ---------------------------------------------------------------------------------------------


def case_fields(unit: str, *, round_id: str = ROUND_ID, case_id: str | None = None) -> dict[str, Any]:
    """The identity of the case of `unit` in `round_id` in PROVINCE, under the two-tier procedure; `case_id` for a
    case whose id must not meet another run's (by default the id a round gives it)."""
    return {
        "case_id": case_id or case_id_for(round_id, unit),
        "unit_code": unit,
        "province_code": PROVINCE,
        "round_id": round_id,
        "rule_set_id": parse_round(round_id).rule_set_id,
        "profile_id": "two-tier",
        "locality_type": LocalityType.OTHER,
    }


def start_input(unit: str, *, round_id: str = ROUND_ID, case_id: str | None = None) -> StartCaseInput:
    """The case workflow's input for that case."""
    return StartCaseInput(**case_fields(unit, round_id=round_id, case_id=case_id))


def snapshot(
    unit: str,
    stage: Stage,
    seq: int,
    *,
    round_id: str = ROUND_ID,
    status: str = "open",
    outcome: Outcome | None = None,
) -> CaseSnapshot:
    """The case as the read model stores it after transition `seq`, which left it at `stage`."""
    fields = case_fields(unit, round_id=round_id)
    return CaseSnapshot(**fields, stage=stage, status=status, outcome=outcome, verdict=None, last_seq=seq)


def case_opened(unit: str, at: datetime, due_at: datetime) -> RecordTransitionInput:
    """The recording of the case's opening at `at`: its registration task, due at `due_at`, to the commune officer."""
    case_id = case_id_for(ROUND_ID, unit)
    return RecordTransitionInput(
        case=snapshot(unit, Stage.REGISTRATION, 1),
        transition=Transition(
            seq=1, action="case_opened", from_stage=None, to_stage=Stage.REGISTRATION, occurred_at=at
        ),
        workflow_id=case_id,
        run_id="run-1",
        new_task=NewTask(task_id=f"{case_id}-t01", stage=Stage.REGISTRATION, role=Role.COMMUNE_OFFICER, due_at=due_at),
    )


def case_row(unit: str, *, round_id: str = ROUND_ID, **columns: Any) -> dict[str, Any]:
    """The columns of that case's row in `cases`: its identity and `columns` (stage, status, times...)."""
    fields = case_fields(unit, round_id=round_id)
    return {"id": fields.pop("case_id"), **fields, **columns}


# -- the audit journal ---------------------------------------------------------------------------------------------

JOURNAL_T0 = datetime(2027, 10, 1, 2, 0, tzinfo=UTC)
JOURNAL_CASE = case_id_for(ROUND_ID, "11953")


def journal_values(seq: int, **over: Any) -> dict[str, Any]:
    """Every hashed field of the journal row `seq` of a case (by default JOURNAL_CASE): opened at seq 1, a completed
    step after. tests/audit/test_chain.py pins the hash of row 1 as it stands here."""
    values: dict[str, Any] = {
        "case_id": JOURNAL_CASE,
        "seq": seq,
        "action": "case_opened" if seq == 1 else f"step_{seq}_completed",
        "actor_id": None if seq == 1 else "officer-1",
        "actor_role": None if seq == 1 else "commune_officer",
        "unit_code": "11953",
        "from_stage": None if seq == 1 else "registration",
        "to_stage": "registration" if seq == 1 else "self_assessment",
        "task_id": None,
        "payload": {} if seq == 1 else {"registered": True, "note": "UBND xã đăng ký", "scores": {"1": 50, "2": 75}},
        "before": {},
        "after": {},
        "reason": None,
        "rule_set_id": "qd06-2019",
        "workflow_id": JOURNAL_CASE,
        "run_id": "run-1",
        "update_id": None if seq == 1 else f"u-{seq}",
        "occurred_at": JOURNAL_T0 + timedelta(hours=seq),
    }
    values.update(over)
    return values


# -- a case on the running stack, through the API -------------------------------------------------------------------


@contextlib.asynccontextmanager
async def case_at_registration(
    env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[tuple[Stack, str, dict[str, Any]]]:
    """The running stack with one case started, once its registration task shows in the commune officer's inbox:
    (stack, case id, that task)."""
    async with running_stack(env.client, database_url, sessions) as stack:
        case_id = await stack.start_case()
        yield stack, case_id, await stack.open_task(case_id, "commune_officer")


async def post_completion(stack: Stack, task: Mapping[str, Any], role: str, form: Any) -> httpx.Response:
    """`role` sends `form` to complete `task` through the API; the answer, whatever it is."""
    return await stack.http.post(f"/v1/tasks/{task['id']}/complete", json=form, headers=stack.headers(role))


async def complete(stack: Stack, task: Mapping[str, Any], role: str, form: Any) -> dict[str, Any]:
    """`role` completes `task` with `form`: the API answers 200 naming that task; its answer."""
    resp = await post_completion(stack, task, role, form)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    assert body["completed_task_id"] == task["id"], body
    return body


async def complete_human_stages(
    stack: Stack, case_id: str, forms: Mapping[Stage, dict[str, Any]] | None = None
) -> None:
    """Complete every human stage of the case in turn, each by its role from its own inbox, with the valid form or
    the one `forms` gives for the stage; each task is the stage expected next."""
    for stage, role in HUMAN_STAGES:
        task = await stack.open_task(case_id, role)
        assert task["stage"] == stage.value
        await complete(stack, task, role, form_for(stage) if forms is None else forms[stage])


# -- workers and servers -------------------------------------------------------------------------------------------


def stack_worker(client: Client, task_queue: str, sessions: async_sessionmaker[AsyncSession]) -> Worker:
    """A worker on `task_queue` with the activities of every store, as the deployed worker runs them."""
    return build_worker(
        client,
        task_queue,
        case_activities(CaseStore(sessions))
        + round_activities(RoundStore(sessions))
        + audit_activities(HistoryArchive(client, sessions)),
    )


async def seed_province(sessions: async_sessionmaker[AsyncSession], province: str) -> list[str]:
    """The units of `province` in the database; their codes."""
    async with sessions() as session, session.begin():
        await seed_units(session, province)
    return [u.code for u in load_units(province)]


async def start_dev_server(*extra_args: str) -> WorkflowEnvironment:
    """A Temporal dev server (in memory) with the case search attributes registered; `extra_args` for its CLI."""
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(),
        data_converter=pydantic_data_converter,
        dev_server_extra_args=[*dev_server_args(), *extra_args],
    )
