"""Safe deploys on the dev server: cases run on build 1 (versioned workers of this checkout); the pre-deploy check
passes build 2 (a change guarded by workflow.patched) and names exactly the cases build 3 (the same change unpatched)
would break, whose promotion is refused; build 2 is promoted and the cases finish on it."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import workflow
from temporalio.api.enums.v1 import EventType, VersioningBehavior
from temporalio.client import Client, WorkflowHandle
from temporalio.common import VersioningBehavior as Behaviour
from temporalio.common import WorkerDeploymentVersion
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.archive import HistoryArchive
from activities.case_store import CaseStore
from contracts import Actor, CompleteTaskInput, StartCaseInput, WithdrawInput
from domain.access import RoleScope
from domain.stages import Outcome, Role, Stage
from services.deploy.check import check_running, list_running
from services.deploy.promote import PromoteRefused, promote
from services.deploy.versioning import deployment_config, describe_deployment
from services.rounds.opening import start_case
from tests.builders import start_input
from tests.deploy.variants import BUILD_1, BUILD_2, BUILD_3, PATCH
from tests.support import PROVINCE, execute_signed, form_for, fresh_unit, seed_reference
from workflows.registry import (
    VERSIONED_WORKFLOWS,
    WORKFLOWS,
    audit_activities,
    case_activities,
    warm_domain,
    workflow_runner,
)

CASE = "RecognitionCaseWorkflow"
ADMIN = Actor(official_id="o-admin", scopes=[RoleScope(role=Role.ADMIN, province_code=PROVINCE, unit_code=None)])


@contextlib.asynccontextmanager
async def build(
    client: Client,
    sessions: async_sessionmaker[AsyncSession],
    task_queue: str,
    version: WorkerDeploymentVersion,
    workflows: Sequence[type],
) -> AsyncIterator[Worker]:
    """A worker of `version` running `workflows` and the case's activities, as worker.py runs them."""
    warm_domain()
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=list(workflows),
        activities=case_activities(CaseStore(sessions)) + audit_activities(HistoryArchive(client, sessions)),
        workflow_runner=workflow_runner(),
        deployment_config=deployment_config(version),
    )
    async with worker:
        yield worker


async def promoted(
    client: Client, version: WorkerDeploymentVersion, task_queue: str, workflows: Sequence[type]
) -> None:
    """Promote `version` once its worker has polled (the server knows a version from its first poll)."""
    deadline = asyncio.get_running_loop().time() + 20
    while True:
        try:
            await promote(client, version, task_queue=task_queue, per_group=None, workflows=workflows)
            return
        except PromoteRefused as exc:
            if exc.reason == "check_failed" or asyncio.get_running_loop().time() > deadline:
                raise
        await asyncio.sleep(0.2)


async def open_task_id(handle: WorkflowHandle[Any, Any]) -> str:
    deadline = asyncio.get_running_loop().time() + 20
    while True:
        status = await handle.query("status")
        if status.get("open_task"):
            return str(status["open_task"]["task_id"])
        assert asyncio.get_running_loop().time() < deadline, f"{handle.id} opened no task"
        await asyncio.sleep(0.1)


async def builds_of(handle: WorkflowHandle[Any, Any]) -> list[str]:
    """The build id of each workflow task the case completed, in order."""
    history = await handle.fetch_history()
    return [
        e.workflow_task_completed_event_attributes.deployment_version.build_id
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    ]


async def markers_of(handle: WorkflowHandle[Any, Any]) -> list[str]:
    history = await handle.fetch_history()
    return [
        payload.data.decode()
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        for details in e.marker_recorded_event_attributes.details.values()
        for payload in details.payloads
    ]


async def listed(client: Client, task_queue: str, want: Callable[[dict[str, str | None]], bool]) -> None:
    """Wait until the server's listing of the running cases (id → stage) satisfies `want` (visibility trails the
    histories by a moment)."""
    deadline = asyncio.get_running_loop().time() + 20
    while True:
        running = {w.workflow_id: w.stage for _, w in await list_running(client, task_queue=task_queue)}
        if want(running):
            return
        assert asyncio.get_running_loop().time() < deadline, running
        await asyncio.sleep(0.1)


async def start_cases(client: Client, task_queue: str, units: Sequence[str]) -> list[WorkflowHandle[Any, Any]]:
    """A case per unit, started as a round's opening starts them (services/rounds/opening.py), in this order."""
    handles = []
    for unit in units:
        inp: StartCaseInput = start_input(unit)
        await start_case(client, inp, task_queue=task_queue)
        handles.append(client.get_workflow_handle(inp.case_id))
    return handles


async def register(handle: WorkflowHandle[Any, Any], unit_code: str) -> None:
    """The commune officer registers the unit: the case records an official's action."""
    officer = Actor(
        official_id="o-officer",
        scopes=[RoleScope(role=Role.COMMUNE_OFFICER, province_code=PROVINCE, unit_code=unit_code)],
    )
    task_id = await open_task_id(handle)
    await execute_signed(
        handle, "complete_task", CompleteTaskInput(task_id=task_id, actor=officer, payload=form_for(Stage.REGISTRATION))
    )


async def test_check_passes_a_patched_change_names_the_cases_an_unpatched_one_breaks_and_cases_finish_on_the_new_build(
    temporal_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> None:
    client = temporal_env.client
    await seed_reference(sessions)
    task_queue = f"test-deploy-{uuid.uuid4()}"
    name = f"xptt-test-{uuid.uuid4().hex[:8]}"
    b1, b2, b3 = (WorkerDeploymentVersion(name, b) for b in ("b1", "b2", "b3"))

    async with build(client, sessions, task_queue, b1, BUILD_1):
        await promoted(client, b1, task_queue, BUILD_1)
        units = [fresh_unit() for _ in range(3)]
        acted, waiting, later = await start_cases(client, task_queue, units)
        await register(acted, units[0])
        for h in (waiting, later):
            await open_task_id(h)
        await listed(client, task_queue, lambda r: len(r) == 3 and r[acted.id] == Stage.SELF_ASSESSMENT.value)

        passed = await check_running(client, task_queue=task_queue, per_group=None, workflows=BUILD_2)
        assert (passed.running, passed.checked, passed.failures) == (3, 3, [])

        sampled = await check_running(client, task_queue=task_queue, per_group=1, workflows=BUILD_2)
        assert sampled.checked == len(sampled.groups) == 2  # one of each stage: the oldest at registration
        assert {(g.stage, g.running, g.checked) for g in sampled.groups} >= {(Stage.REGISTRATION.value, 2, 1)}

        broken = await check_running(client, task_queue=task_queue, per_group=None, workflows=BUILD_3)
        assert [f.workflow.workflow_id for f in broken.failures] == [acted.id]
        failure = broken.failures[0]
        assert failure.kind == "nondeterminism"
        assert failure.workflow.kind == "case" and failure.workflow.rule_set_id == "qd06-2019"
        assert 0 < len(failure.message) <= 200 and "\n" not in failure.message

        async with build(client, sessions, task_queue, b3, BUILD_3):
            with pytest.raises(PromoteRefused) as refused:
                await promote(client, b3, task_queue=task_queue, per_group=None, workflows=BUILD_3)
            assert refused.value.reason == "check_failed" and acted.id in refused.value.detail
            state = await describe_deployment(client, name)
            assert state is not None and state.current_build_id == "b1"

        async with build(client, sessions, task_queue, b2, BUILD_2):
            await promoted(client, b2, task_queue, BUILD_2)
            state = await describe_deployment(client, name)
            assert state is not None and state.current_build_id == "b2"
            for h in (acted, waiting, later):
                await execute_signed(h, "withdraw", WithdrawInput(actor=ADMIN, reason="sáp nhập đơn vị"))
            results = [await asyncio.wait_for(h.result(), 30) for h in (acted, waiting, later)]

    assert [r["outcome"] for r in results] == [Outcome.WITHDRAWN.value] * 3
    for h in (acted, waiting, later):
        builds = await builds_of(h)
        assert builds[0] == "b1" and builds[-1] == "b2", builds
        assert builds == sorted(builds), builds  # never back to build 1 once on build 2
        # Build 2's code took the patched branch for the cases that had not acted before it; `acted` keeps the old
        # branch for the rest of its life (the SDK memoizes a patch's answer per run, from its first, replayed, call).
        took_patch = any(PATCH in m for m in await markers_of(h))
        assert took_patch == (h is not acted), h.id
        info = (await h.describe()).raw_description.workflow_execution_info.versioning_info
        assert info.behavior == VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE
        assert info.deployment_version.build_id == "b2"
    await listed(client, task_queue, lambda r: not r)
    after = await check_running(client, task_queue=task_queue, per_group=None, workflows=BUILD_3)
    assert (after.running, after.failures) == (0, [])


def test_versioned_workers_pin_the_short_workflows_and_let_cases_and_rounds_take_the_auto_upgrade_default() -> None:
    behaviours = {
        d.name: d.versioning_behavior for d in (workflow._Definition.must_from_class(w) for w in VERSIONED_WORKFLOWS)
    }
    auto = {"RecognitionCaseWorkflow", "AssessmentRoundWorkflow"}
    assert behaviours == {
        name: (Behaviour.UNSPECIFIED if name in auto else Behaviour.PINNED)
        for name in (workflow._Definition.must_from_class(w).name for w in WORKFLOWS)
    }
    config = deployment_config(WorkerDeploymentVersion("xptt", "b1"))
    assert config is not None and config.default_versioning_behavior == Behaviour.AUTO_UPGRADE
    # unversioned workers declare nothing: the server refuses a behaviour from a worker that is not versioned
    assert {workflow._Definition.must_from_class(w).versioning_behavior for w in WORKFLOWS} == {Behaviour.UNSPECIFIED}
