"""The worker: runs the case workflows and the activities that write PostgreSQL. Stateless; run as many as needed."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import structlog
from temporalio.client import Client
from temporalio.worker import Worker

from activities.archive import HistoryArchive
from activities.attempts import FailedAttempts
from activities.case_store import CaseStore
from activities.directory import DirectoryTasks
from activities.notify import delivery_from_settings
from activities.round_store import RoundStore
from db.session import make_engine, make_session_factory
from domain.actor_assertion import KeyRingError, parse_key_ring
from infra.heap import freeze_start_heap
from infra.logs import configure_logging
from infra.settings import Settings, get_settings
from infra.telemetry import configure_tracing, instrument_engine, worker_runtime
from infra.temporal import connect
from services.absence_schedule import ensure_absence_schedule
from services.deploy.versioning import deployment_config, worker_version
from services.notification_schedule import ensure_digest_schedule
from services.round_schedule import ensure_round_schedule
from workflows import actor_keys
from workflows.dispatch import notify_task_queue
from workflows.registry import (
    VERSIONED_WORKFLOWS,
    WORKFLOWS,
    SandboxMode,
    audit_activities,
    case_activities,
    directory_activities,
    notification_activities,
    round_activities,
    warm_domain,
    workflow_runner,
)

log = structlog.get_logger(__name__)


def build_worker(
    client: Client, task_queue: str, activities: Sequence[Any], *, sandbox: SandboxMode = "isolated", **options: Any
) -> Worker:
    """A worker running every workflow (workflows/registry.py) and the given activities on `task_queue`."""
    warm_domain()
    versioned = options.get("deployment_config") is not None  # the short workflows pinned (docs/deploys.md)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=list(VERSIONED_WORKFLOWS if versioned else WORKFLOWS),
        activities=list(activities),
        workflow_runner=workflow_runner(sandbox),
        **options,
    )


def install_actor_keys(settings: Settings) -> None:
    """The key ring the case workflows check actor assertions with (XPTT_ACTOR_KEYS), installed for this process's
    workflows; without it every official's action would be refused, so the worker does not start."""
    if not settings.actor_keys:
        raise SystemExit("XPTT_ACTOR_KEYS is not set: the worker checks every official's action with it")
    try:
        ring = parse_key_ring(settings.actor_keys)
    except KeyRingError as exc:
        raise SystemExit(f"XPTT_ACTOR_KEYS: {exc}") from None
    actor_keys.install(ring, max_age=timedelta(seconds=settings.actor_assertion_max_age_seconds))
    log.info("actor_keys_installed", key_ids=list(ring.key_ids), signing_key=ring.signing_key_id)


async def main(settings: Settings) -> None:
    if not settings.database_url:
        raise SystemExit("DATABASE_URL is not set: the worker needs the PostgreSQL it writes to")
    install_actor_keys(settings)
    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
    instrument_engine(engine)  # a span per SQL statement while tracing is on (docs/observability.md)
    # the SDK's metrics for Prometheus on WORKER_METRICS_ADDRESS, when set
    client = await connect(settings, runtime=worker_runtime(settings.worker_metrics_address))
    version = worker_version(settings)  # None: versioning off (WORKER_BUILD_ID empty; docs/deploys.md)
    versioning = deployment_config(version)
    store = CaseStore(make_session_factory(engine))
    archive = HistoryArchive(client, make_session_factory(engine))
    rounds = RoundStore(make_session_factory(engine))
    directory = DirectoryTasks(client, make_session_factory(engine))
    attempts = FailedAttempts.connect(settings.database_url)  # the board's failing activities, on its own connection
    worker = build_worker(
        client,
        settings.task_queue,
        case_activities(store) + round_activities(rounds) + audit_activities(archive) + directory_activities(directory),
        max_cached_workflows=settings.worker_max_cached_workflows,
        max_concurrent_workflow_tasks=settings.worker_max_concurrent_workflow_tasks,
        max_concurrent_activities=settings.worker_max_concurrent_activities,
        sandbox=settings.worker_workflow_sandbox,
        interceptors=[attempts],
        deployment_config=versioning,
    )
    # Deliveries (email, webhooks) on their own queue: a slow mail server never holds up case work.
    delivery = delivery_from_settings(make_session_factory(engine), settings)
    notifier = build_worker(
        client,
        notify_task_queue(settings.task_queue),
        notification_activities(delivery),
        sandbox=settings.worker_workflow_sandbox,
        deployment_config=versioning,
    )
    await ensure_digest_schedule(client, task_queue=settings.task_queue, hour=settings.digest_hour)
    await ensure_round_schedule(client, task_queue=settings.task_queue)
    await ensure_absence_schedule(client, task_queue=settings.task_queue)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    frozen = freeze_start_heap()  # the start-up's objects out of the collector's full passes (infra/heap.py)
    log.info(
        "worker_started",
        objects_frozen=frozen,
        task_queue=settings.task_queue,
        temporal=settings.temporal_address,
        version=version.to_canonical_string() if version else None,
    )
    async with worker, notifier:
        await stop.wait()
    await attempts.close()
    await engine.dispose()
    log.info("worker_stopped")


if __name__ == "__main__":
    s = get_settings()
    configure_logging(s.log_level, s.log_format)
    configure_tracing("xptt-worker")  # traces as OTEL_* asks; off by default
    asyncio.run(main(s))
