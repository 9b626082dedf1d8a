"""Recording again what the database lacks, through the code the activities run, and seeing its news delivered once.

- A case's lacking transitions: one transaction per case, in seq order, through `activities.case_store` (the round's
  opening through `record_openings`, as the round recorded it; every later one through `apply_transition`, as
  `record_transition` did). Every write is keyed, so running it twice writes nothing twice, and the journal's rows
  come back with the same hashes (every hashed field is in the recorded input).
- A round's opening and report: the round's own activities (`RoundStore`), with the inputs its history holds.
- Their news: the outbox rows come back `pending`. The delivery workflow of an outbox id (workflow id = outbox id)
  may have run already, before the database was lost: when it completed, the message left (or was given up on) and
  its outcome is written back to the row, nothing is sent again; when it still runs, the outcome of its send is
  written back if its history holds one (a worker stopped between the send and the run's close), else it finds the
  row when it comes to it; otherwise (never started, failed, or completed finding no row: it ran after the restore)
  a delivery starts now.
- A closed case's event history is archived again (activities/archive.py), complete.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode

from activities.archive import archive_case_history
from activities.case_store import apply_transition, record_openings
from activities.round_store import RoundStore
from contracts import ArchiveHistoryInput
from db.models import CaseRow, RoundReportRow, RoundRow
from db.models_notify import NotificationRow
from notify.payloads import DeliverNotificationInput, DeliveryOutcome
from services.reconcile.history import CaseRecord, RoundRecord
from services.reconcile.schemas import CaseGap, RoundGap
from workflows.dispatch import DELIVERY_WORKFLOW, notify_task_queue

log = structlog.get_logger(__name__)

SETTLED = ("delivered", "failed")  # a delivery's outcome that says the message left, or was given up on
OUTCOME_ACTIVITIES = ("deliver_notification", "mark_notification_failed")  # activities/notify.py


async def rerecord_case(sessions: async_sessionmaker[AsyncSession], record: CaseRecord, gap: CaseGap) -> list[str]:
    """The case's lacking transitions in one transaction, in seq order; the outbox ids their news returned."""
    lacking = set(gap.missing_seqs)
    outbox: list[str] = []
    async with sessions() as session, session.begin():
        for inp in record.transitions:
            if inp.transition.seq not in lacking:
                continue
            if inp.transition.seq == 1 and record.by_round:
                outbox += (await record_openings(session, [inp]))[inp.case.case_id]
            else:
                outbox += await apply_transition(session, inp)
    log.info("case_rerecorded", case_id=gap.case_id, seqs=gap.missing_seqs, outbox=len(outbox))
    return outbox


async def round_gap(session: AsyncSession, record: RoundRecord) -> RoundGap | None:
    """What the database lacks of a round's own recordings: its opening (the round row, or any case of the province
    in it) and its report."""
    opened = record.opened
    report = record.report
    opening_missing = False
    if opened is not None:
        has_round = await session.scalar(select(RoundRow.id).where(RoundRow.id == opened.round_id))
        has_case = await session.scalar(
            select(CaseRow.id)
            .where(CaseRow.round_id == opened.round_id, CaseRow.province_code == opened.province_code)
            .limit(1)
        )
        opening_missing = has_round is None or has_case is None
    report_missing = False
    if report is not None:
        stored = await session.get(RoundReportRow, (report.round_id, report.province_code))
        report_missing = stored is None
    if not (opening_missing or report_missing):
        return None
    source = opened or report
    assert source is not None
    return RoundGap(
        workflow_id=record.workflow_id,
        round_id=source.round_id,
        province_code=source.province_code,
        opening_missing=opening_missing,
        report_missing=report_missing,
    )


async def rerecord_round(sessions: async_sessionmaker[AsyncSession], record: RoundRecord, gap: RoundGap) -> list[str]:
    """The round's lacking recordings by its own activities, with the inputs its history holds; their outbox ids."""
    store = RoundStore(sessions)
    outbox: list[str] = []
    if gap.opening_missing and record.opened is not None:
        outbox += (await store.record_round_opened(record.opened)).outbox_ids
    if gap.report_missing and record.report is not None:
        outbox += (await store.record_round_report(record.report)).outbox_ids
    log.info("round_rerecorded", workflow_id=record.workflow_id, outbox=len(outbox))
    return outbox


async def deliver_once(
    client: Client, sessions: async_sessionmaker[AsyncSession], outbox_ids: Sequence[str], *, task_queue: str
) -> tuple[int, int]:
    """See the module's doc; (deliveries started, outcomes written back)."""
    started = settled = 0
    for outbox_id in dict.fromkeys(outbox_ids):
        handle = client.get_workflow_handle(outbox_id, result_type=DeliveryOutcome)
        try:
            desc = await handle.describe()
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            desc = None
        if desc is not None and desc.status == WorkflowExecutionStatus.RUNNING:
            # Past its send (its worker stopped before the run closed): the outcome is in its history. Else it reads
            # the row when it comes to it.
            found = await _sent_by(client, outbox_id)
            if found is not None and found[0].status in SETTLED:
                settled += await _write_outcome(sessions, *found)
            continue
        if desc is not None and desc.status == WorkflowExecutionStatus.COMPLETED:
            outcome = await handle.result()
            if outcome.status in SETTLED:
                settled += await _write_outcome(sessions, outcome, desc.close_time or datetime.now(UTC))
                continue
            if outcome.status != "missing":
                continue  # the row said there was nothing to send
            # It ran after the restore, while its row was gone: nothing left; the row is back now, send it.
        await client.start_workflow(
            DELIVERY_WORKFLOW,
            DeliverNotificationInput(outbox_id=outbox_id),
            id=outbox_id,
            task_queue=notify_task_queue(task_queue),
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        )
        started += 1
    return started, settled


async def _sent_by(client: Client, outbox_id: str) -> tuple[DeliveryOutcome, datetime] | None:
    """The outcome a running delivery's completed send (or give-up) returned, and when; None before it."""
    history = await client.get_workflow_handle(outbox_id).fetch_history()
    outcome_of: set[int] = set()
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            if event.activity_task_scheduled_event_attributes.activity_type.name in OUTCOME_ACTIVITIES:
                outcome_of.add(event.event_id)
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            done = event.activity_task_completed_event_attributes
            if done.scheduled_event_id in outcome_of and done.result.payloads:
                decoded = await client.data_converter.decode(list(done.result.payloads), [DeliveryOutcome])
                return decoded[0], event.event_time.ToDatetime(tzinfo=UTC)
    return None


async def _write_outcome(sessions: async_sessionmaker[AsyncSession], outcome: DeliveryOutcome, at: datetime) -> int:
    """The finished delivery's outcome on a row that came back `pending` (its times: when the delivery closed)."""
    values: dict[str, object] = {
        "status": outcome.status,
        "attempts": outcome.attempts,
        "last_error": outcome.error,
        "sending_at": at,
    }
    values["delivered_at" if outcome.status == "delivered" else "failed_at"] = at
    async with sessions() as session, session.begin():
        done = await session.execute(
            update(NotificationRow)
            .where(NotificationRow.id == outcome.outbox_id, NotificationRow.status.in_(("pending", "sending")))
            .values(**values)
            .returning(NotificationRow.id)
        )
        return len(done.all())


async def archive_again(client: Client, sessions: async_sessionmaker[AsyncSession], record: CaseRecord) -> bool:
    result = await archive_case_history(
        client,
        sessions,
        ArchiveHistoryInput(case_id=record.start.case_id, workflow_id=record.workflow_id, run_id=record.run_id),
        now=datetime.now(UTC),
    )
    return result.replaced
