"""Run a recorded history through the Temporal Replayer against the workflow code of this build.

No server is needed: the Replayer runs the workflow code locally over the recorded events and reports the first
command that differs (non-determinism), e.g. a workflow changed without `workflow.patched`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer


class ReplayOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    ok: bool
    failure: str | None  # the Replayer's account of the mismatch


async def replay_history(
    workflow_id: str, history: Mapping[str, Any], *, workflows: Sequence[type] | None = None
) -> ReplayOutcome:
    from workflows.registry import WORKFLOWS, warm_domain, workflow_runner

    warm_domain()
    replayer = Replayer(
        workflows=list(workflows or WORKFLOWS),
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),
    )
    result = await replayer.replay_workflow(
        WorkflowHistory.from_json(workflow_id, dict(history)), raise_on_replay_failure=False
    )
    failure = result.replay_failure
    return ReplayOutcome(
        ok=failure is None, failure=None if failure is None else f"{type(failure).__name__}: {failure}"
    )
