"""What the worker runs and the replayers replay: every workflow, the activities of each store, and the sandbox the
workflows run in.

Kept apart from `workflows/__init__.py` on purpose: the sandbox imports a workflow's package afresh for every run,
so the package itself imports nothing and each run loads only its own workflow's module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from temporalio.worker import UnsandboxedWorkflowRunner, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.archive import HistoryArchive
from activities.case_store import CaseStore
from activities.directory import DirectoryTasks
from activities.notify import NotificationDelivery
from activities.round_store import RoundStore
from domain.merger import merger_settings
from domain.procedure import PROFILE_IDS, load_profile
from domain.rulesets import all_rule_sets
from workflows.absences import AbsenceHandoverWorkflow
from workflows.actor_keys import check_nudge_actor
from workflows.case import RecognitionCaseWorkflow
from workflows.notification import NotificationDeliveryWorkflow, NotificationDigestWorkflow
from workflows.pinned import PINNED_TWINS
from workflows.round import AssessmentRoundWorkflow
from workflows.round_opener import ScheduledRoundOpeningWorkflow

WORKFLOWS = (
    RecognitionCaseWorkflow,
    AssessmentRoundWorkflow,
    ScheduledRoundOpeningWorkflow,
    NotificationDeliveryWorkflow,
    NotificationDigestWorkflow,
    AbsenceHandoverWorkflow,
)
# What a versioned worker runs (WORKER_BUILD_ID set; docs/deploys.md): the short workflows as their PINNED twins.
VERSIONED_WORKFLOWS = tuple(PINNED_TWINS.get(w, w) for w in WORKFLOWS)

# Deterministic libraries the domain uses, loaded once outside the sandbox instead of once per workflow run
# (the holiday calendars read the clock at import time, which the sandbox rightly refuses); and the worker's actor
# key ring (workflows/actor_keys.py), installed at start and read by the case workflow's validators without IO.
PASSTHROUGH = ("domain", "holidays", "dateutil", "six", "yaml", "vietnam_provinces", "workflows.actor_keys")

Activity = Callable[..., Any]


# How the workflows run (WORKER_WORKFLOW_SANDBOX, docs/configuration.md "The workflow sandbox"):
# - "isolated": the SDK's sandbox, each run importing its workflow's module afresh (what the tests run);
# - "shared": the sandbox's checks (no clock, no IO, no randomness from workflow code) with every module loaded once
#   per worker and shared by the runs;
# - "off": no sandbox; determinism rests on the code and on the tests, which run every workflow in "isolated".
SandboxMode = Literal["isolated", "shared", "off"]


def workflow_runner(mode: SandboxMode = "isolated") -> WorkflowRunner:
    if mode == "off":
        return UnsandboxedWorkflowRunner()
    restrictions = SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)
    if mode == "shared":
        restrictions = restrictions.with_passthrough_all_modules()
    return SandboxedWorkflowRunner(restrictions=restrictions)


def warm_domain() -> None:
    """Read the rule sets and profiles once, here, so no workflow task ever reads a file."""
    all_rule_sets()
    for profile_id in PROFILE_IDS:
        load_profile(profile_id)
    merger_settings()  # a bad merger policy file stops the worker at start, not every commendation check


def case_activities(store: CaseStore) -> list[Activity]:
    """The case's store, and the check of a nudge's actor (a local activity: no IO, its verdict recorded)."""
    return [store.record_transition, store.load_recognition_history, check_nudge_actor]


def round_activities(rounds: RoundStore) -> list[Activity]:
    return [
        rounds.record_round_opened,
        rounds.record_cases_opened,
        rounds.record_round_report,
        rounds.read_round_milestones,
        rounds.read_case_standing,
        rounds.list_provinces_with_units,
    ]


def audit_activities(archive: HistoryArchive) -> list[Activity]:
    """The archive of a closed case's history (the case workflow's last step)."""
    return [archive.archive_history]


def directory_activities(directory: DirectoryTasks) -> list[Activity]:
    """The daily hand-over of absent officials' tasks to their deputies."""
    return [directory.hand_over_leaves]


def notification_activities(delivery: NotificationDelivery) -> list[Activity]:
    """Deliveries run on their own task queue (workflows/dispatch.py, `notify_task_queue`)."""
    return [delivery.plan_delivery, delivery.deliver, delivery.mark_failed, delivery.build_daily_digests]
