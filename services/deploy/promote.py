"""Promotion: make a new version of the worker deployment current, only once the running cases and rounds replay on
its workflow code (services/deploy/check.py). From then on new workflows and every auto-upgrading one (the cases,
the rounds) run on it; pinned ones finish on the version they started on, whose workers are drained afterwards."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import structlog
from temporalio.client import Client
from temporalio.common import WorkerDeploymentVersion
from temporalio.service import RPCError, RPCStatusCode

from services.deploy.check import Progress, check_running
from services.deploy.schemas import CheckReport
from services.deploy.versioning import describe_deployment, set_current_version
from workflows.registry import WORKFLOWS, SandboxMode

log = structlog.get_logger(__name__)

IDENTITY = "xptt-deploy-promote"


class PromoteRefused(Exception):
    """Not promoted. `reason`: check_failed (the report names the workflows), no_workers (no worker of the version
    has polled the server yet: start them first), or the server's refusal."""

    def __init__(self, reason: str, detail: str, report: CheckReport | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.report = report


async def promote(
    client: Client,
    version: WorkerDeploymentVersion,
    *,
    task_queue: str,
    per_group: int | None,
    province_code: str | None = None,
    workflows: Sequence[type] = WORKFLOWS,
    sandbox: SandboxMode = "isolated",
    progress: Progress | None = None,
) -> CheckReport:
    """Check the running workflows against `workflows` (this checkout's code, which `version`'s workers run), then
    make `version` current. PromoteRefused when the check fails or the server refuses; nothing changed then."""
    report = await check_running(
        client,
        task_queue=task_queue,
        per_group=per_group,
        province_code=province_code,
        workflows=workflows,
        sandbox=sandbox,
        build_id=version.build_id,
        progress=progress,
    )
    if not report.passed:
        names = ", ".join(f.workflow.workflow_id for f in report.failures[:10])
        raise PromoteRefused("check_failed", f"{len(report.failures)} running workflows fail: {names}", report)
    state = await describe_deployment(client, version.deployment_name)
    if state is None or version.build_id not in state.versions:
        raise PromoteRefused(
            "no_workers", f"no worker of version {version.to_canonical_string()} has polled the server yet", report
        )
    if state.current_build_id == version.build_id:
        log.info("deploy_already_current", version=version.to_canonical_string())
        return report
    try:
        await set_current_version(client, version, identity=IDENTITY)
    except RPCError as exc:
        reason = "no_workers" if exc.status == RPCStatusCode.FAILED_PRECONDITION else "server_refused"
        raise PromoteRefused(reason, exc.message, report) from exc
    await _settled(client, version.deployment_name)
    log.info("deploy_promoted", version=version.to_canonical_string(), previous=state.current_build_id)
    return report


async def _settled(client: Client, name: str, within: float = 30) -> None:
    """Wait (up to `within` seconds) until the server has carried the new current version to every task queue:
    until then a workflow task may still go to the previous version's workers."""
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        state = await describe_deployment(client, name)
        if state is None or state.routing_settled:
            return
        await asyncio.sleep(0.2)
    log.warning("deploy_routing_not_settled", deployment=name, seconds=within)
