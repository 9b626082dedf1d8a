"""Builds 2 and 3 of the case workflow, for tests/deploy: the workflow of this checkout under its own name with one
change, a short pause before an official's action is recorded. Build 2 guards the pause with `workflow.patched`
(cases that acted before it replay as they ran); build 3 does not (every case that acted before it breaks)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts import CaseResult, StartCaseInput
    from workflows.registry import (
        VERSIONED_WORKFLOWS,
    )  # the worker's wiring (activities, stores): never loaded in the sandbox

from workflows.case import RecognitionCaseWorkflow
from workflows.case_admin import Change

PATCH = "deploy-test-pause-before-action"
PAUSE = timedelta(milliseconds=20)


@workflow.defn(name="RecognitionCaseWorkflow")
class PatchedPauseCaseWorkflow(RecognitionCaseWorkflow):
    @workflow.run
    async def run(self, inp: StartCaseInput) -> CaseResult:
        return await super().run(inp)

    async def _apply(self, change: Change, *, actor_id: str | None = None, **kw: Any) -> None:
        if actor_id is not None and workflow.patched(PATCH):
            await workflow.sleep(PAUSE)
        await super()._apply(change, actor_id=actor_id, **kw)


@workflow.defn(name="RecognitionCaseWorkflow")
class UnpatchedPauseCaseWorkflow(RecognitionCaseWorkflow):
    @workflow.run
    async def run(self, inp: StartCaseInput) -> CaseResult:
        return await super().run(inp)

    async def _apply(self, change: Change, *, actor_id: str | None = None, **kw: Any) -> None:
        if actor_id is not None:
            await workflow.sleep(PAUSE)  # a timer where histories recorded the activity: nondeterministic
        await super()._apply(change, actor_id=actor_id, **kw)


def with_case(case: type) -> list[type]:
    """What a versioned worker runs (workflows/registry.py), with `case` in place of the case workflow."""
    return [case if w is RecognitionCaseWorkflow else w for w in VERSIONED_WORKFLOWS]


BUILD_1 = list(VERSIONED_WORKFLOWS)
BUILD_2 = with_case(PatchedPauseCaseWorkflow)
BUILD_3 = with_case(UnpatchedPauseCaseWorkflow)
