"""What a workflow recorded, read back from its Temporal event history: the inputs of its completed recording
activities, decoded with the client's data converter (the pydantic one every client and worker uses).

A case's transitions are the inputs of its completed `record_transition` activities; a case its round opened has
no recording of its opening in its own history: that opening is computed again from the case's start input by the
function the round's `record_cases_opened` runs (activities/round_store.py `openings_of`), the same way the case
workflow takes its first state from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from temporalio.api.common.v1 import Payloads
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from activities.round_store import openings_of
from contracts import (
    OpenCasesInput,
    OpenRoundRecordInput,
    RecordTransitionInput,
    RoundUnit,
    StartCaseInput,
)
from domain.round_report import RoundReport

RECORD_TRANSITION = "record_transition"
ROUND_OPENED = "record_round_opened"
ROUND_REPORT = "record_round_report"


@dataclass(frozen=True)
class CaseRecord:
    """A case as its workflow run recorded it: every transition in seq order (the round's opening included), the
    seqs whose recording is scheduled but not completed, and the round workflow that started it (if any)."""

    workflow_id: str
    run_id: str
    start: StartCaseInput
    transitions: list[RecordTransitionInput]
    in_flight: list[int] = field(default_factory=list)
    parent: tuple[str, str] | None = None  # (workflow id, run id) of the round that started the case

    @property
    def last(self) -> RecordTransitionInput | None:
        return self.transitions[-1] if self.transitions else None

    @property
    def by_round(self) -> bool:
        """Opened in bulk by its round: seq 1 is the round's recording, not the case's."""
        return self.start.opened_at is not None

    def open_task(self) -> str | None:
        """The id of the task the last recorded transition leaves open (None: no task open)."""
        open_id: str | None = None
        for t in self.transitions:
            if open_id is not None and t.completed_task is not None and t.completed_task.task_id == open_id:
                open_id = None
            if open_id is not None and t.cancelled_task_id == open_id:
                open_id = None
            if t.new_task is not None:
                open_id = t.new_task.task_id
        return open_id


@dataclass(frozen=True)
class RoundRecord:
    """A round workflow's recordings that completed: its opening (round row, the round's news) and its report."""

    workflow_id: str
    run_id: str
    opened: OpenRoundRecordInput | None
    report: RoundReport | None


@dataclass
class _Scan:
    run_id: str
    start: Payloads | None = None
    parent: tuple[str, str] | None = None
    done: list[tuple[str, Payloads]] = field(default_factory=list)
    pending: list[tuple[str, Payloads]] = field(default_factory=list)


async def _activities(client: Client, workflow_id: str, run_id: str | None, names: set[str]) -> _Scan:
    history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
    scan = _Scan(run_id=history.run_id)
    scheduled: dict[int, tuple[str, Payloads]] = {}
    completed: set[int] = set()
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            attrs = event.workflow_execution_started_event_attributes
            scan.start = attrs.input
            if attrs.HasField("parent_workflow_execution"):
                parent = attrs.parent_workflow_execution
                scan.parent = (parent.workflow_id, parent.run_id)
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            sched = event.activity_task_scheduled_event_attributes
            if sched.activity_type.name in names:
                scheduled[event.event_id] = (sched.activity_type.name, sched.input)
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            completed.add(event.activity_task_completed_event_attributes.scheduled_event_id)
    for event_id, (name, payloads) in sorted(scheduled.items()):
        (scan.done if event_id in completed else scan.pending).append((name, payloads))
    return scan


async def _decode(client: Client, payloads: Payloads | None, hint: type[Any]) -> Any:
    if payloads is None or not payloads.payloads:
        raise ValueError(f"the history holds no {hint.__name__}")
    return (await client.data_converter.decode(list(payloads.payloads), [hint]))[0]


async def case_record(client: Client, workflow_id: str, run_id: str | None = None) -> CaseRecord:
    """The transitions the case's run recorded (completed activities only), its round's opening first."""
    scan = await _activities(client, workflow_id, run_id, {RECORD_TRANSITION})
    start: StartCaseInput = await _decode(client, scan.start, StartCaseInput)
    transitions = [await _decode(client, p, RecordTransitionInput) for _, p in scan.done]
    pending = [await _decode(client, p, RecordTransitionInput) for _, p in scan.pending]
    if start.opened_at is not None:
        transitions.insert(0, opening_of(start))
    by_seq = {t.transition.seq: t for t in transitions}  # a seq recorded twice is the same input
    return CaseRecord(
        workflow_id=workflow_id,
        run_id=scan.run_id,
        start=start,
        transitions=[by_seq[s] for s in sorted(by_seq)],
        in_flight=sorted(t.transition.seq for t in pending if t.transition.seq not in by_seq),
        parent=scan.parent,
    )


def opening_of(start: StartCaseInput) -> RecordTransitionInput:
    """The first transition of a case its round opened, as the round recorded it."""
    assert start.opened_at is not None
    batch = OpenCasesInput(
        round_id=start.round_id,
        province_code=start.province_code,
        rule_set_id=start.rule_set_id,
        profile_id=start.profile_id,
        opened_at=start.opened_at,
        units=[RoundUnit(unit_code=start.unit_code, locality_type=start.locality_type)],
        calendar=start.calendar,
    )
    return openings_of(batch)[0]


async def round_record(client: Client, workflow_id: str, run_id: str | None = None) -> RoundRecord:
    """What the round's run recorded of itself: its opening's input and the report it stored (completed only)."""
    scan = await _activities(client, workflow_id, run_id, {ROUND_OPENED, ROUND_REPORT})
    opened: OpenRoundRecordInput | None = None
    report: RoundReport | None = None
    for name, payloads in scan.done:
        if name == ROUND_OPENED:
            opened = await _decode(client, payloads, OpenRoundRecordInput)
        else:
            report = await _decode(client, payloads, RoundReport)
    return RoundRecord(workflow_id=workflow_id, run_id=scan.run_id, opened=opened, report=report)
