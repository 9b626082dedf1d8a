"""The worker: runs the case workflows and the activities that write PostgreSQL. Stateless; run as many as needed."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Sequence
from typing import Any

import structlog
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.archive import HistoryArchive
from activities.case_store import CaseStore
from activities.notify import delivery_from_settings, notification_activities
from activities.round_store import RoundStore
from db.session import make_engine, make_session_factory
from domain.procedure import PROFILE_IDS, load_profile
from domain.rulesets import all_rule_sets
from infra.logs import configure_logging
from infra.settings import Settings, get_settings
from infra.temporal import connect
from services.notification_schedule import ensure_digest_schedule
from services.round_schedule import ensure_round_schedule
from workflows.notification import notify_task_queue
from workflows.registry import WORKFLOWS

log = structlog.get_logger(__name__)


# Deterministic libraries the domain uses, loaded once outside the sandbox instead of once per workflow run
# (the holiday calendars read the clock at import time, which the sandbox rightly refuses).
PASSTHROUGH = ("domain", "holidays", "dateutil", "six", "yaml", "vietnam_provinces")


def workflow_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH))


def warm_domain() -> None:
    """Read the rule sets and profiles once, here, so no workflow task ever reads a file."""
    all_rule_sets()
    for profile_id in PROFILE_IDS:
        load_profile(profile_id)


def build_worker(client: Client, task_queue: str, activities: Sequence[Any], **options: Any) -> Worker:
    warm_domain()
    return Worker(
        client,
        task_queue=task_queue,
        workflows=list(WORKFLOWS),
        activities=list(activities),
        workflow_runner=workflow_runner(),
        **options,
    )


def case_activities(store: CaseStore) -> list[Any]:
    return [store.record_transition, store.load_recognition_history]


def round_activities(rounds: RoundStore) -> list[Any]:
    return [
        rounds.record_round_opened,
        rounds.record_cases_opened,
        rounds.record_round_report,
        rounds.list_provinces_with_units,
    ]


def audit_activities(archive: HistoryArchive) -> list[Any]:
    """The archive of a closed case's history (the case workflow's last step)."""
    return [archive.archive_history]


async def main(settings: Settings) -> None:
    if not settings.database_url:
        raise SystemExit("DATABASE_URL is not set: the worker needs the PostgreSQL it writes to")
    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
    client = await connect(settings)
    store = CaseStore(make_session_factory(engine))
    archive = HistoryArchive(client, make_session_factory(engine))
    rounds = RoundStore(make_session_factory(engine))
    worker = build_worker(
        client,
        settings.task_queue,
        case_activities(store) + round_activities(rounds) + audit_activities(archive),
        max_cached_workflows=settings.worker_max_cached_workflows,
        max_concurrent_workflow_tasks=settings.worker_max_concurrent_workflow_tasks,
        max_concurrent_activities=settings.worker_max_concurrent_activities,
    )
    # Deliveries (email, webhooks) on their own queue: a slow mail server never holds up case work.
    delivery = delivery_from_settings(make_session_factory(engine), settings)
    notifier = build_worker(client, notify_task_queue(settings.task_queue), notification_activities(delivery))
    await ensure_digest_schedule(client, task_queue=settings.task_queue, hour=settings.digest_hour)
    await ensure_round_schedule(client, task_queue=settings.task_queue)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker_started", task_queue=settings.task_queue, temporal=settings.temporal_address)
    async with worker, notifier:
        await stop.wait()
    await engine.dispose()
    log.info("worker_stopped")


if __name__ == "__main__":
    s = get_settings()
    configure_logging(s.log_level, s.log_format)
    asyncio.run(main(s))
