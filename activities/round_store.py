"""Activities of a round: record it and list its units; store its report. One transaction each, idempotent."""

from __future__ import annotations

from datetime import date

import structlog
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.case_store import record_openings
from contracts import (
    CaseProgress,
    CaseStandingInput,
    OpenCasesInput,
    OpenedCase,
    OpenedCases,
    OpenRoundRecordInput,
    ProvincesWithUnits,
    RecordTransitionInput,
    RoundMilestones,
    RoundMilestonesInput,
    RoundReportRecorded,
    RoundUnit,
    RoundUnits,
)
from db.models import AuditEventRow, CaseRow, RoundReportRow, RoundRow, TaskRow, UnitRow
from domain.calendar_overrides import case_calendar, check_province
from domain.case import CaseState, case_id_for, open_case
from domain.ministry_report import due_on
from domain.procedure import load_profile, profile_in_force
from domain.round_calendar import CaseCalendar
from domain.round_report import RoundReport, registered
from domain.rounds import Round, parse_round
from domain.stages import LocalityType, Outcome, Stage
from domain.verdict import Verdict
from infra.settings import get_settings
from notify.rounds import enqueue_round_closed, enqueue_round_opened
from services.ministry.opening import open_report
from services.rounds.queries import DOSSIER_FILED, REGISTERED, milestones
from services.targets import target_in_force

log = structlog.get_logger(__name__)


def _calendar(rnd: Round, province_code: str, rehearsal_opens_on: date | None) -> CaseCalendar:
    """The round's calendar in the province, with its overrides (nationally for a code the overrides cannot name),
    moved to the present for a rehearsal."""
    province: str | None = province_code
    try:
        check_province(province_code)
    except ValueError:
        log.warning("calendar_without_province", round_id=rnd.id, province_code=province_code)
        province = None
    cal = case_calendar(rnd.rule_set_id, rnd.year, province)
    return cal if rehearsal_opens_on is None else cal.rehearsed(rehearsal_opens_on)


async def case_standing(session: AsyncSession, case_id: str) -> CaseProgress | None:
    """A case's standing from its row and its journal (domain-wise what `workflows.case_attrs.progress` gives)."""
    case = await session.get(CaseRow, case_id)
    if case is None:
        return None
    actions = (
        await session.execute(
            select(AuditEventRow.action, AuditEventRow.to_stage)
            .where(AuditEventRow.case_id == case_id)
            .order_by(AuditEventRow.seq)
        )
    ).all()
    task = await session.scalar(select(TaskRow).where(TaskRow.case_id == case_id, TaskRow.status == "open"))
    verdict = Verdict.model_validate(case.verdict) if case.verdict else None
    stage, outcome = Stage(case.stage), Outcome(case.outcome) if case.outcome else None
    return CaseProgress(
        case_id=case.id,
        unit_code=case.unit_code,
        stage=stage,
        status=case.status,
        outcome=outcome,
        due_at=task.due_at if task else None,
        escalation_level=task.escalation_level if task else 0,
        problem=case.problem,
        on_hold=case.on_hold,
        registered=registered(stage, outcome),
        submitted=any(a == DOSSIER_FILED and to != Stage.CLOSED.value for a, to in actions),
        blocking_reasons=[r.code for r in verdict.blocking_reasons] if verdict else [],
        last_action=actions[-1][0] if actions else "",
        seq=case.last_seq,
    )


def openings_of(inp: OpenCasesInput) -> list[RecordTransitionInput]:
    """The first transition of each case of the batch, by the pure function the case workflow runs (`open_case` at
    the round's `opened_at`): what `record_cases_opened` records."""
    profile = load_profile(inp.profile_id)
    year = parse_round(inp.round_id).year
    openings: list[RecordTransitionInput] = []
    for unit in inp.units:
        case_id = case_id_for(inp.round_id, unit.unit_code)
        initial = CaseState(
            case_id=case_id,
            unit_code=unit.unit_code,
            province_code=inp.province_code,
            round_id=inp.round_id,
            rule_set_id=inp.rule_set_id,
            profile_id=inp.profile_id,
            locality_type=unit.locality_type,
        )
        state, transition = open_case(initial, profile=profile, year=year, now=inp.opened_at, calendar=inp.calendar)
        openings.append(RecordTransitionInput.of(state, transition, workflow_id=case_id, run_id=None))
    return openings


class RoundStore:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = session_factory

    @activity.defn(name="record_round_opened")
    async def record_round_opened(self, inp: OpenRoundRecordInput) -> RoundUnits:
        """The round row (kept as first recorded) and the province's units, in code order."""
        rnd = parse_round(inp.round_id)
        async with self._sessions() as session, session.begin():
            await session.execute(
                insert(RoundRow)
                .values(
                    id=rnd.id,
                    rule_set_id=rnd.rule_set_id,
                    profile_id=profile_in_force(rnd.assessment_start).id,
                    year=rnd.year,
                    period_start=rnd.period_start,
                    period_end=rnd.period_end,
                )
                .on_conflict_do_nothing(index_elements=[RoundRow.id])
            )
            profile_id = await session.scalar(select(RoundRow.profile_id).where(RoundRow.id == rnd.id))
            rows = await session.execute(
                select(UnitRow.code, UnitRow.locality_type)
                .where(UnitRow.province_code == inp.province_code)
                .order_by(UnitRow.code)
            )
            units = [RoundUnit(unit_code=c, locality_type=LocalityType(t)) for c, t in rows.all()]
            calendar = _calendar(rnd, inp.province_code, inp.rehearsal_opens_on)
            outbox_ids = await enqueue_round_opened(
                session, rnd.id, inp.province_code, units=len(units), calendar=calendar
            )
        log.info("round_recorded", round_id=rnd.id, province_code=inp.province_code, units=len(units))
        return RoundUnits(
            profile_id=profile_id or "",
            units=units,
            outbox_ids=tuple(outbox_ids),
            calendar=calendar,
        )

    @activity.defn(name="record_cases_opened")
    async def record_cases_opened(self, inp: OpenCasesInput) -> OpenedCases:
        """Open a batch of the round's cases in one transaction: case rows, first tasks (the inbox), first journal
        rows and the tasks' news, computed by the same pure function the case workflow runs (`open_case` at the
        round's `opened_at`). Safe to run twice: a case recorded already keeps its rows."""
        openings = openings_of(inp)
        async with self._sessions() as session, session.begin():
            outbox = await record_openings(session, openings)
        log.info("cases_opened", round_id=inp.round_id, province_code=inp.province_code, cases=len(openings))
        return OpenedCases(
            cases=[
                OpenedCase(
                    case_id=o.case.case_id,
                    unit_code=o.case.unit_code,
                    due_at=o.new_task.due_at if o.new_task else None,
                    outbox_ids=tuple(outbox[o.case.case_id]),
                )
                for o in openings
            ]
        )

    @activity.defn(name="list_provinces_with_units")
    async def list_provinces_with_units(self) -> ProvincesWithUnits:
        async with self._sessions() as session:
            rows = await session.execute(select(UnitRow.province_code).distinct().order_by(UnitRow.province_code))
            return ProvincesWithUnits(codes=list(rows.scalars()))

    @activity.defn(name="read_round_milestones")
    async def read_round_milestones(self, inp: RoundMilestonesInput) -> RoundMilestones:
        """Which cases of the round registered and filed their dossier (a round whose cases report only at their
        end reads this for the cases still open when it closes)."""
        async with self._sessions() as session:
            found = await milestones(session, inp.round_id, inp.province_code)
        return RoundMilestones(
            registered=tuple(sorted(found[REGISTERED])),
            submitted=tuple(sorted(found[DOSSIER_FILED])),
        )

    @activity.defn(name="read_case_standing")
    async def read_case_standing(self, inp: CaseStandingInput) -> CaseProgress | None:
        """Where a case stands, from the read model and its journal, as the case's result would have said it: for a
        round whose case workflow ended without a result (terminated or failed). None: no such case."""
        async with self._sessions() as session:
            return await case_standing(session, inp.case_id)

    @activity.defn(name="record_round_report")
    async def record_round_report(self, report: RoundReport) -> RoundReportRecorded:
        """The round's report, against the province's target in force for the round's year when it has one (else
        the share the round was opened with), and the province's report task to the ministry, due
        `XPTT_MINISTRY_REPORT_DUE` of the next year."""
        year = parse_round(report.round_id).year
        due = due_on(year, get_settings().ministry_report_due)
        async with self._sessions() as session, session.begin():
            target = await target_in_force(session, report.province_code, year)
            if target is not None:  # the province's own target wins over what the round was opened with
                share = report.recognised / report.units if report.units else 0.0
                report = report.model_copy(update={"target_share": target.share, "meets_target": share >= target.share})
            stmt = insert(RoundReportRow).values(
                round_id=report.round_id,
                province_code=report.province_code,
                report=report.model_dump(mode="json"),
                closed_at=report.closed_at,
            )
            await session.execute(
                stmt.on_conflict_do_update(
                    index_elements=[RoundReportRow.round_id, RoundReportRow.province_code],
                    set_={"report": stmt.excluded.report, "closed_at": stmt.excluded.closed_at},
                )
            )
            await open_report(session, report.round_id, report.province_code, opened_at=report.closed_at, due=due)
            outbox_ids = await enqueue_round_closed(session, report, report_due=due)
        log.info("round_report_recorded", round_id=report.round_id, province_code=report.province_code)
        return RoundReportRecorded(outbox_ids=tuple(outbox_ids))
