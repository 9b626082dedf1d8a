"""How a case's rows stand against its workflow's recordings (services/reconcile/compare.py), without servers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from contracts import CompletedTask, NewTask, RecordTransitionInput
from domain.case import Transition
from domain.stages import Role, Stage
from services.reconcile.compare import CaseRows, gap_of, settled_closed
from services.reconcile.history import CaseRecord
from tests.builders import case_opened, snapshot, start_input

UNIT = "11953"
T0 = datetime(2027, 10, 1, 2, 0, tzinfo=UTC)


def registered(case_id: str) -> RecordTransitionInput:
    """Seq 2: the registration task completed, self-assessment's task opened."""
    return RecordTransitionInput(
        case=snapshot(UNIT, Stage.SELF_ASSESSMENT, 2),
        transition=Transition(
            seq=2,
            action="registration_completed",
            from_stage=Stage.REGISTRATION,
            to_stage=Stage.SELF_ASSESSMENT,
            occurred_at=T0 + timedelta(hours=1),
        ),
        workflow_id=case_id,
        run_id="run-1",
        completed_task=CompletedTask(task_id=f"{case_id}-t01", completed_by="officer-1", completion={}),
        new_task=NewTask(
            task_id=f"{case_id}-t02", stage=Stage.SELF_ASSESSMENT, role=Role.COMMUNE_OFFICER, due_at=T0 + timedelta(9)
        ),
    )


def record() -> CaseRecord:
    opened = case_opened(UNIT, T0, T0 + timedelta(days=5))
    case_id = opened.case.case_id
    start = start_input(UNIT)
    return CaseRecord(workflow_id=case_id, run_id="run-1", start=start, transitions=[opened, registered(case_id)])


def test_the_transitions_above_the_journals_head_are_lacking_and_the_open_task_is_the_last_left() -> None:
    rec = record()
    case_id = rec.workflow_id
    assert rec.open_task() == f"{case_id}-t02"
    at_backup = CaseRows(last_seq=1, stage="registration", status="open", journal_seq=1, open_tasks=(f"{case_id}-t01",))
    gap = gap_of(rec, at_backup, running=True, completed=False)
    assert gap is not None and gap.repairable
    assert (gap.missing_seqs, gap.missing_stages) == ([2], ["self_assessment"])
    assert (gap.db_seq, gap.wf_seq, gap.db_stage, gap.wf_stage) == (1, 2, "registration", "self_assessment")
    assert (gap.db_open_task, gap.wf_open_task) == (f"{case_id}-t01", f"{case_id}-t02")
    absent = gap_of(rec, None, running=True, completed=False)
    assert absent is not None and absent.missing_seqs == [1, 2] and absent.db_seq is None


def test_rows_that_hold_every_recorded_transition_agree() -> None:
    rec = record()
    rows = CaseRows(
        last_seq=2, stage="self_assessment", status="open", journal_seq=2, open_tasks=(f"{rec.workflow_id}-t02",)
    )
    assert gap_of(rec, rows, running=True, completed=False) is None


def test_rows_no_recorded_transition_explains_are_reported_and_never_repaired() -> None:
    rec = record()
    ahead = CaseRows(last_seq=3, stage="council_assessment", status="open", journal_seq=3)
    gap = gap_of(rec, ahead, running=True, completed=False)
    assert gap is not None and not gap.repairable and gap.missing_seqs == []
    assert gap.note is not None and "seq 3" in gap.note
    other_task = CaseRows(last_seq=2, stage="self_assessment", status="open", journal_seq=2, open_tasks=("x",))
    gap = gap_of(rec, other_task, running=True, completed=False)
    assert gap is not None and not gap.repairable


def test_a_closed_case_is_settled_only_when_its_row_says_closed_and_its_history_is_kept() -> None:
    assert settled_closed(CaseRows(status="closed", archived_runs=frozenset({"r1"})), "r1")
    assert not settled_closed(CaseRows(status="closed"), "r1")
    assert not settled_closed(CaseRows(status="open", archived_runs=frozenset({"r1"})), "r1")
    assert not settled_closed(None, "r1")
