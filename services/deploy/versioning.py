"""Worker deployment versioning: which version of the `xptt` deployment a worker joins, and the server's view of the
deployment (its current version, the one new and auto-upgrading workflow tasks go to).

Which workflow moves (docs/deploys.md "Which workflow moves"): the case and round workflows live for a year and more
and never continue as new, so they move to each new current version (AUTO_UPGRADE, the versioned worker's default),
their changes guarded by `workflow.patched` and checked by `xptt deploy check`; the short ones (deliveries, digests,
the scheduled openings and hand-overs) stay on the version they started on (PINNED: workflows/pinned.py, which a
versioned worker runs in their place).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from temporalio.api.enums.v1 import RoutingConfigUpdateState, WorkerDeploymentVersionStatus
from temporalio.api.workflowservice.v1 import DescribeWorkerDeploymentRequest, SetWorkerDeploymentCurrentVersionRequest
from temporalio.client import Client
from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import WorkerDeploymentConfig

from infra.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
# What decides the commands a workflow issues: the workflows, the domain they call (its data files included: rule
# sets, calendars, profiles) and the payloads that cross the Temporal boundary. Activities, services and pages are
# not in it: a fix there changes no history, and workers with it join the running version.
WORKFLOW_CODE = ("workflows", "domain", "contracts.py", "notify/payloads.py")
# The packages that code's behaviour depends on: the SDK itself, the holiday calendar (working days, hence timers),
# the administrative units, the payloads' validation. A new release of one changes the build id too.
WORKFLOW_PACKAGES = ("temporalio", "holidays", "vietnam-provinces", "pydantic", "PyYAML")
AUTO = "auto"
CODE_PREFIX = "code-"  # a build id named after its workflow code (code_build_id)


def code_build_id(root: Path = ROOT) -> str:
    """`code-<12 hex>`: a SHA-256 over the paths and bytes of WORKFLOW_CODE and the installed versions of
    WORKFLOW_PACKAGES. The same workflow code on the same packages gives the same id on every machine and every
    image; any change of either gives a new one."""
    digest = hashlib.sha256()
    for entry in WORKFLOW_CODE:
        path = root / entry
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for f in files:
            if "__pycache__" in f.parts or f.suffix == ".pyc":
                continue
            digest.update(f.relative_to(root).as_posix().encode() + b"\0")
            digest.update(f.read_bytes() + b"\0")
    for package in WORKFLOW_PACKAGES:
        digest.update(f"{package}=={_installed(package)}".encode() + b"\0")
    return f"{CODE_PREFIX}{digest.hexdigest()[:12]}"


def _installed(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"


def build_id_of(settings: Settings) -> str | None:
    """The build id the settings name (WORKER_BUILD_ID; "auto": code_build_id()), None when versioning is off."""
    given = settings.worker_build_id
    if not given:
        return None
    return code_build_id() if given == AUTO else given


def worker_version(settings: Settings) -> WorkerDeploymentVersion | None:
    build_id = build_id_of(settings)
    return WorkerDeploymentVersion(settings.worker_deployment_name, build_id) if build_id else None


def deployment_config(
    version: WorkerDeploymentVersion | None,
) -> WorkerDeploymentConfig | None:
    """The worker's versioning: polls as `version`; a workflow that declares no behaviour of its own moves to each
    new current version (every workflow of the registry declares one)."""
    if version is None:
        return None
    return WorkerDeploymentConfig(
        version=version,
        use_worker_versioning=True,
        default_versioning_behavior=VersioningBehavior.AUTO_UPGRADE,
    )


@dataclass(frozen=True)
class DeploymentState:
    """The deployment as the server sees it: its current version's build id (None: unversioned workers take the
    tasks) and the build ids of the versions it knows, with their status."""

    name: str
    current_build_id: str | None
    versions: dict[str, str]
    # False while the server still carries a change of the current version to the task queues (tasks may go to the
    # previous version until then).
    routing_settled: bool = True


async def describe_deployment(client: Client, name: str) -> DeploymentState | None:
    """None when no versioned worker of `name` has polled the server yet."""
    try:
        resp = await client.workflow_service.describe_worker_deployment(
            DescribeWorkerDeploymentRequest(namespace=client.namespace, deployment_name=name)
        )
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    info = resp.worker_deployment_info
    current = info.routing_config.current_deployment_version.build_id or None
    versions = {s.deployment_version.build_id: _status_name(int(s.status)) for s in info.version_summaries}
    settled = info.routing_config_update_state != RoutingConfigUpdateState.ROUTING_CONFIG_UPDATE_STATE_IN_PROGRESS
    return DeploymentState(name=name, current_build_id=current, versions=versions, routing_settled=settled)


def _status_name(status: int) -> str:
    """WORKER_DEPLOYMENT_VERSION_STATUS_CURRENT → current."""
    name: str = WorkerDeploymentVersionStatus.Name(status)  # type: ignore[arg-type]
    return name.removeprefix("WORKER_DEPLOYMENT_VERSION_STATUS_").lower()


async def set_current_version(client: Client, version: WorkerDeploymentVersion, *, identity: str) -> None:
    """Make `version` the deployment's current version: new workflows and every auto-upgrading one run on it from
    their next workflow task. The server refuses a version none of whose workers has polled yet."""
    await client.workflow_service.set_worker_deployment_current_version(
        SetWorkerDeploymentCurrentVersionRequest(
            namespace=client.namespace,
            deployment_name=version.deployment_name,
            build_id=version.build_id,
            identity=identity,
        )
    )
