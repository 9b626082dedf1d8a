"""AssessmentRoundWorkflow: one per (province, round). Records the opening of every unit's case in bulk, starts the
case workflows from it (bounded concurrency), hears each case's end from its result (its final standing; cases of
rounds started before signal their milestones: registered, submitted, escalated, stuck, on hold, closed), closes
when every case has closed (or at the round's end), and records the round report.

Cases are abandoned children: closing the round never cancels a case, and a case that outlives the round goes on.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from activities.round_store import RoundStore
    from contracts import (
        CaseProgress,
        CaseResult,
        CaseStandingInput,
        OpenCasesInput,
        OpenedCase,
        OpenedCases,
        OpenRoundInput,
        OpenRoundRecordInput,
        RoundMilestonesInput,
        RoundUnit,
        RoundUnits,
        StartCaseInput,
    )
    from domain.case import case_id_for
    from domain.round_report import DEFAULT_TARGET_SHARE, RoundProgress, RoundReport, progress_of, report
    from domain.rounds import Round, parse_round
    from domain.stages import Stage
    from workflows.dispatch import dispatch_notifications

from workflows.case import RecognitionCaseWorkflow, case_search_attributes

ACTIVITY_TIMEOUT = timedelta(seconds=60)
ACTIVITY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
# Cases opened per transaction when a round opens: ~20 bound parameters per row keeps a batch's statements well
# under PostgreSQL's 32,767-parameter limit, and a batch's activity input and result well under Temporal's
# payload size warnings.
OPEN_BATCH = 250
OPEN_TIMEOUT = timedelta(minutes=2)
# Histories with this marker start cases that report their end by their result and signal nothing on the way.
CASES_REPORT_BY_RESULT = "cases-report-by-result"


def round_workflow_id(round_id: str, province_code: str) -> str:
    return f"round-{round_id}-{province_code}"


@workflow.defn
class AssessmentRoundWorkflow:
    def __init__(self) -> None:
        self._units = 0
        self._standings: dict[str, CaseProgress] = {}
        self._started: list[str] = []
        self._outside: list[str] = []
        self._opening = True
        self._report: RoundReport | None = None
        # Its cases report their end by their result and signal nothing on the way (rounds started before: False).
        self._hears_results = False
        self._reading: list[asyncio.Task[None]] = []  # standings read for case workflows that ended without a result

    @workflow.run
    async def run(self, inp: OpenRoundInput) -> RoundReport:
        rnd = parse_round(inp.round_id)
        opened = await workflow.execute_activity_method(
            RoundStore.record_round_opened,
            OpenRoundRecordInput(
                round_id=rnd.id, province_code=inp.province_code, rehearsal_opens_on=inp.rehearsal_opens_on
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )
        self._units = len(opened.units)
        await dispatch_notifications(opened.outbox_ids)
        await self._start_cases(rnd, inp, opened)
        self._opening = False
        workflow.logger.info("round %s opened %d cases in %s", rnd.id, len(self._started), inp.province_code)
        await self._wait_for_cases(rnd, inp.closes_at)
        if self._hears_results and any(s.status == "open" for s in self._standings.values()):
            await self._read_milestones(rnd, inp.province_code)
        target = inp.target_share if inp.target_share is not None else DEFAULT_TARGET_SHARE
        self._report = report(
            rnd.id, inp.province_code, self._units, self._standings.values(), target_share=target, now=workflow.now()
        )
        recorded = await workflow.execute_activity_method(
            RoundStore.record_round_report,
            self._report,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )
        if recorded is not None:  # None in histories recorded before rounds were announced
            await dispatch_notifications(recorded.outbox_ids)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._report

    async def _start_cases(self, rnd: Round, inp: OpenRoundInput, opened: RoundUnits) -> None:
        """A case workflow per unit of the province, `inp.concurrency` starts in flight at once."""
        gate = asyncio.Semaphore(inp.concurrency)
        self._hears_results = workflow.patched(CASES_REPORT_BY_RESULT)

        def case_input(u: RoundUnit, **opening: object) -> StartCaseInput:
            return StartCaseInput(
                case_id=case_id_for(rnd.id, u.unit_code),
                unit_code=u.unit_code,
                province_code=inp.province_code,
                round_id=rnd.id,
                rule_set_id=rnd.rule_set_id,
                profile_id=opened.profile_id,
                locality_type=u.locality_type,
                calendar=opened.calendar,
                round_hears_result=self._hears_results,
                **opening,
            )

        if workflow.patched("open-cases-in-bulk"):
            # Every case's opening is recorded first, in batches (the inbox fills in a few transactions), then
            # each case workflow starts from that opening instead of recording its own.
            opened_at = workflow.now()
            cases = await self._open_in_bulk(rnd, inp.province_code, opened, opened_at)
            units = {u.unit_code: u for u in opened.units}
            await asyncio.gather(
                *(
                    self._start_case(
                        gate, case_input(units[c.unit_code], opened_at=opened_at, outbox_ids=c.outbox_ids), c.due_at
                    )
                    for c in cases
                )
            )
        else:
            await asyncio.gather(*(self._start_case(gate, case_input(u)) for u in opened.units))

    async def _start_case(self, gate: asyncio.Semaphore, case: StartCaseInput, due_at: datetime | None = None) -> None:
        async with gate:
            try:
                handle = await workflow.start_child_workflow(
                    RecognitionCaseWorkflow.run,
                    case,
                    id=case.case_id,
                    parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                    search_attributes=case_search_attributes(case, due_at),
                )
            except WorkflowAlreadyStartedError:
                # Started outside this round (by hand): it runs on, but does not report here.
                workflow.logger.info("case %s runs already; it is not started twice", case.case_id)
                self._outside.append(case.case_id)
                self._standings.pop(case.case_id, None)
                return
            self._started.append(case.case_id)
            handle.add_done_callback(self._case_ended)

    def _case_ended(self, ended: asyncio.Task[CaseResult]) -> None:
        """A case workflow this round started has ended: its result carries its final standing. A result recorded
        before it did leaves what the case last signalled; a case workflow that failed or was terminated leaves its
        standing from the read model (a case terminated after its close counts as closed; one terminated open stays
        open for its round, as a case that never closes)."""
        if ended.cancelled():
            return
        failure = ended.exception()
        if failure is not None:
            case_id = ended.id if isinstance(ended, workflow.ChildWorkflowHandle) else ended.get_name()
            workflow.logger.warning("case workflow %s ended without a result: %s", case_id, failure)
            if self._hears_results:  # it told nothing on the way: the read model says where it stands
                self._reading.append(asyncio.create_task(self._read_standing(case_id)))
            return
        standing = ended.result().standing
        if standing is not None:
            self._heard(standing)

    async def _read_standing(self, case_id: str) -> None:
        standing = await workflow.execute_activity_method(
            RoundStore.read_case_standing,
            CaseStandingInput(case_id=case_id),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )
        if standing is not None:
            self._heard(standing)

    async def _read_milestones(self, rnd: Round, province_code: str) -> None:
        """The round closes with cases still open, which told it nothing on the way: whether each registered and
        filed its dossier comes from the journal, for the report."""
        found = await workflow.execute_activity_method(
            RoundStore.read_round_milestones,
            RoundMilestonesInput(round_id=rnd.id, province_code=province_code),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )
        registered, submitted = set(found.registered), set(found.submitted)
        for case_id, s in list(self._standings.items()):
            if s.status == "open":
                self._standings[case_id] = s.model_copy(
                    update={"registered": case_id in registered, "submitted": case_id in submitted}
                )

    async def _wait_for_cases(self, rnd: Round, closes_at: datetime | None) -> None:
        """Until every case started has closed, or the round's end (`closes_at`) comes first."""

        def all_closed() -> bool:
            return len(self._standings) >= len(self._started) and all(
                s.status == "closed" for s in self._standings.values()
            )

        if closes_at is None:
            await workflow.wait_condition(all_closed)
            return
        try:
            await workflow.wait_condition(all_closed, timeout=max(closes_at - workflow.now(), timedelta(0)))
        except TimeoutError:
            workflow.logger.info("round %s reached its end with cases still open", rnd.id)

    async def _open_in_bulk(
        self, rnd: Round, province_code: str, opened: RoundUnits, opened_at: datetime
    ) -> list[OpenedCase]:
        """Record the opening of every case of the province at `opened_at`, a batch per transaction, and take
        each case's first standing from it (replaced by what the case reports: its milestones' signals, or its result
        at its end)."""
        batches = [opened.units[i : i + OPEN_BATCH] for i in range(0, len(opened.units), OPEN_BATCH)]
        results: list[OpenedCases] = await asyncio.gather(
            *(
                workflow.execute_activity_method(
                    RoundStore.record_cases_opened,
                    OpenCasesInput(
                        round_id=rnd.id,
                        province_code=province_code,
                        rule_set_id=rnd.rule_set_id,
                        profile_id=opened.profile_id,
                        opened_at=opened_at,
                        units=batch,
                        calendar=opened.calendar,
                    ),
                    start_to_close_timeout=OPEN_TIMEOUT,
                    retry_policy=ACTIVITY_RETRY,
                )
                for batch in batches
            )
        )
        cases = [c for r in results for c in r.cases]
        for c in cases:
            self._standings[c.case_id] = CaseProgress(
                case_id=c.case_id,
                unit_code=c.unit_code,
                stage=Stage.REGISTRATION,
                status="open",
                due_at=c.due_at,
                last_action="case_opened",
                seq=1,
            )
        return cases

    @workflow.signal
    def case_progress(self, standing: CaseProgress) -> None:
        """From a case at its milestones (cases of rounds started before their results carried their standing), or
        from a case's result when it ends."""
        self._heard(standing)

    def _heard(self, standing: CaseProgress) -> None:
        """A late standing never overwrites a newer one."""
        known = self._standings.get(standing.case_id)
        if known is None or standing.seq > known.seq:
            self._standings[standing.case_id] = standing

    @workflow.query
    def progress(self) -> RoundProgress:
        return progress_of(
            self._units, self._standings.values(), now=workflow.now(), follows_open_cases=not self._hears_results
        )

    @workflow.query
    def started_cases(self) -> list[str]:
        return list(self._started)

    @workflow.query
    def opening(self) -> bool:
        return self._opening
