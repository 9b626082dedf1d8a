"""ScheduledRoundOpeningWorkflow: run by a Temporal Schedule on the day periods start (1 November: the day after a
period ends on 31 October). It asks the domain which round's period starts today (the rhythm decides: QĐ 06/2019
assesses in the 2nd and 4th year of each 5-year plan, so a period runs two or three years and most years nothing
opens) and opens that round in every province that has units, one AssessmentRoundWorkflow each (abandoned children,
ids per round and province, so never twice): units register to strive at the start of the period, and their
cases wait, with no task, for the assessment window (domain/round_calendar.py)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from activities.round_store import RoundStore
    from contracts import OpenRoundInput, ScheduledRoundsInput, ScheduledRoundsResult
    from domain.calendar import local_date
    from domain.rounds import round_assessed_on, round_starting_on

from workflows.round import AssessmentRoundWorkflow, round_workflow_id


@workflow.defn
class ScheduledRoundOpeningWorkflow:
    @workflow.run
    async def run(self, inp: ScheduledRoundsInput) -> ScheduledRoundsResult:
        with workflow.unsafe.sandbox_unrestricted():  # the rhythm reads the holiday-free calendar of rule sets
            today = local_date(workflow.now())
            # Histories recorded before the calendar opened the round assessed today (its registration came late).
            rnd = round_starting_on(today) if workflow.patched("open-at-period-start") else round_assessed_on(today)
        if rnd is None:
            workflow.logger.info("no round opens on %s", today.isoformat())
            return ScheduledRoundsResult(round_id=None, started=[])
        provinces = await workflow.execute_activity_method(
            RoundStore.list_provinces_with_units,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
        )
        wanted = [p for p in provinces.codes if not inp.province_codes or p in inp.province_codes]
        started: list[str] = []
        for province in wanted:
            round_id = round_workflow_id(rnd.id, province)
            try:
                await workflow.start_child_workflow(
                    AssessmentRoundWorkflow.run,
                    OpenRoundInput(round_id=rnd.id, province_code=province, concurrency=inp.concurrency),
                    id=round_id,
                    parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                )
                started.append(round_id)
            except WorkflowAlreadyStartedError:
                workflow.logger.info("round %s runs already", round_id)
        return ScheduledRoundsResult(round_id=rnd.id, started=started)
