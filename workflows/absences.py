"""AbsenceHandoverWorkflow: run every morning by the schedule `xptt-absence-handover` (services/absence_schedule.py):
the open tasks of officials on leave today go to their deputies (services/officials/absences.py). One activity; a
retried run sends nothing twice (the Updates' ids are per leave, task and case position)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.directory import DirectoryTasks
    from contracts import AbsenceHandoverInput, AbsenceHandoverResult


@workflow.defn
class AbsenceHandoverWorkflow:
    @workflow.run
    async def run(self, inp: AbsenceHandoverInput) -> AbsenceHandoverResult:
        return await workflow.execute_activity_method(
            DirectoryTasks.hand_over_leaves,
            inp,
            start_to_close_timeout=timedelta(minutes=30),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5), maximum_attempts=20),
        )
