"""The short workflows as versioned workers run them: the same workflows under the same names, declared PINNED, so
that each finishes on the worker deployment version it started on (docs/deploys.md "Which workflow moves").

Twins rather than `versioning_behavior` on the workflows themselves: a workflow task completed with a versioning
behaviour is refused by the server unless the worker is versioned, and versioning is a per-worker choice
(WORKER_BUILD_ID; tests and `make run` run unversioned). workflows/registry.py `VERSIONED_WORKFLOWS` lists these
in place of the originals. The case and the round declare nothing: they take the versioned worker's default,
AUTO_UPGRADE (services/deploy/versioning.py `deployment_config`).
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.common import VersioningBehavior

with workflow.unsafe.imports_passed_through():
    from contracts import AbsenceHandoverInput, AbsenceHandoverResult, ScheduledRoundsInput, ScheduledRoundsResult
    from notify.payloads import BuildDigestsResult, DeliverNotificationInput, DeliveryOutcome, DigestInput

from workflows.absences import AbsenceHandoverWorkflow
from workflows.notification import NotificationDeliveryWorkflow, NotificationDigestWorkflow
from workflows.round_opener import ScheduledRoundOpeningWorkflow

PINNED = VersioningBehavior.PINNED


@workflow.defn(name="NotificationDeliveryWorkflow", versioning_behavior=PINNED)
class PinnedNotificationDeliveryWorkflow(NotificationDeliveryWorkflow):
    @workflow.run
    async def run(self, inp: DeliverNotificationInput) -> DeliveryOutcome:
        return await super().run(inp)


@workflow.defn(name="NotificationDigestWorkflow", versioning_behavior=PINNED)
class PinnedNotificationDigestWorkflow(NotificationDigestWorkflow):
    @workflow.run
    async def run(self, inp: DigestInput) -> BuildDigestsResult:
        return await super().run(inp)


@workflow.defn(name="ScheduledRoundOpeningWorkflow", versioning_behavior=PINNED)
class PinnedScheduledRoundOpeningWorkflow(ScheduledRoundOpeningWorkflow):
    @workflow.run
    async def run(self, inp: ScheduledRoundsInput) -> ScheduledRoundsResult:
        return await super().run(inp)


@workflow.defn(name="AbsenceHandoverWorkflow", versioning_behavior=PINNED)
class PinnedAbsenceHandoverWorkflow(AbsenceHandoverWorkflow):
    @workflow.run
    async def run(self, inp: AbsenceHandoverInput) -> AbsenceHandoverResult:
        return await super().run(inp)


PINNED_TWINS: dict[type, type] = {
    NotificationDeliveryWorkflow: PinnedNotificationDeliveryWorkflow,
    NotificationDigestWorkflow: PinnedNotificationDigestWorkflow,
    ScheduledRoundOpeningWorkflow: PinnedScheduledRoundOpeningWorkflow,
    AbsenceHandoverWorkflow: PinnedAbsenceHandoverWorkflow,
}
