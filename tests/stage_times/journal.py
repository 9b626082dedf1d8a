"""A seeded round whose stage durations are known: each case's transitions are written through the real writer
(activities/case_store.py CaseStore.record_transition) at moments the test chooses, with the due times it chooses.

Three cases of round qd06-2019:2027, in November and December 2027 (Wednesday 24 November is Vietnam Cultural Day,
a day off); times are in Vietnam:

- A (Hưng Yên, "other"): through to the decision; one objection at public posting sends it back to the council;
  the appraising office returns the dossier twice, the second time a day late, after its task escalated; recognised,
  then closed by the commendation check. Its stays (working days, on time?) are in A_STAYS.
- B (Hưng Yên, mountain/island): registers two working days late, then waits with no task until self-assessment
  opens on Monday 15 November; still there (an open stay).
- C (Lai Châu, "other"): registers, self-assesses on time; its council assessment is open.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.case_store import CaseStore
from contracts import CaseSnapshot, CompletedTask, NewTask, RecordTransitionInput, TaskUpdate
from domain.calendar import TZ
from domain.case import Transition, case_id_for
from domain.stages import LocalityType, Outcome, Role, Stage
from domain.units import load_units
from tests.builders import seed_province
from tests.support import PROVINCE, ROUND_ID, seed_reference

OTHER_PROVINCE = "12"
UNIT_A, UNIT_B = (u.code for u in load_units(PROVINCE)[-2:])  # the province's last units: no stack takes them
UNIT_C = load_units(OTHER_PROVINCE)[-1].code


def vn(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2027, month, day, hour, minute, tzinfo=TZ)


def due(month: int, day: int) -> datetime:
    """Office closing on that day."""
    return datetime.combine(datetime(2027, month, day).date(), time(17, 0), tzinfo=TZ)


class CaseJournal:
    """One case's transitions as its workflow would record them."""

    def __init__(self, unit: str, province: str, locality: LocalityType) -> None:
        self.fields: dict[str, Any] = {
            "case_id": case_id_for(ROUND_ID, unit),
            "unit_code": unit,
            "province_code": province,
            "round_id": ROUND_ID,
            "rule_set_id": "qd06-2019",
            "profile_id": "two-tier",
            "locality_type": locality,
        }
        self.case_id: str = self.fields["case_id"]
        self.seq = 0
        self.task_no = 0
        self.stage = Stage.REGISTRATION
        self.task: NewTask | None = None
        self.inputs: list[RecordTransitionInput] = []

    def _new_task(self, stage: Stage, due_at: datetime | None) -> NewTask | None:
        if due_at is None:
            return None
        self.task_no += 1
        return NewTask(
            task_id=f"{self.case_id}-t{self.task_no:02d}", stage=stage, role=Role.COMMUNE_OFFICER, due_at=due_at
        )

    def _record(self, at: datetime, action: str, to: Stage, **more: Any) -> None:
        self.seq += 1
        status, outcome = ("closed", Outcome.RECOGNISED) if to is Stage.CLOSED else ("open", more.pop("outcome", None))
        case = CaseSnapshot(**self.fields, stage=to, status=status, outcome=outcome, verdict=None, last_seq=self.seq)
        details = more.pop("details", {})
        transition = Transition(
            seq=self.seq,
            action=action,
            from_stage=more.pop("from_stage", self.stage),
            to_stage=to,
            occurred_at=at,
            details=details,
        )
        self.inputs.append(
            RecordTransitionInput(case=case, transition=transition, workflow_id=self.case_id, run_id="run-1", **more)
        )
        self.stage = to

    def open(self, at: datetime, due_at: datetime) -> CaseJournal:
        self.task = self._new_task(Stage.REGISTRATION, due_at)
        self._record(at, "case_opened", Stage.REGISTRATION, from_stage=None, new_task=self.task)
        return self

    def complete(self, at: datetime, to: Stage, due_at: datetime | None, **details: Any) -> CaseJournal:
        """The open task is completed at `at`; the case moves to `to`, whose task (if `due_at`) opens at once."""
        done = self.task
        action = f"{self.stage.value}_completed" if self.stage is not Stage.COMMENDATION else "commendation_checked"
        self.task = self._new_task(to, due_at) if to is not Stage.CLOSED else None
        completed = CompletedTask(task_id=done.task_id, completed_by="someone", completion=details) if done else None
        self._record(at, action, to, details=details, completed_task=completed, new_task=self.task, actor_id="someone")
        return self

    def stage_opens(self, at: datetime, due_at: datetime) -> CaseJournal:
        self.task = self._new_task(self.stage, due_at)
        self._record(at, "stage_opened", self.stage, new_task=self.task)
        return self

    def escalate(self, at: datetime) -> CaseJournal:
        assert self.task is not None and self.task.due_at is not None
        change = TaskUpdate(
            task_id=self.task.task_id,
            due_at=self.task.due_at,
            escalation_level=1,
            escalated_to=Role.ADMIN,
            assignee_id=None,
            stuck=False,
        )
        self._record(at, "task_escalated", self.stage, task_update=change, details={"level": 1})
        return self


OBJECTION = {"objections": [{"id": "kn-1", "text": "Số liệu tiêu chí 5 chưa đúng"}]}
RETURN = {"outcome": "return", "missing": ["Biên bản họp hội đồng"]}


def case_a() -> CaseJournal:
    j = CaseJournal(UNIT_A, PROVINCE, LocalityType.OTHER).open(vn(11, 1), due(11, 5))
    j.complete(vn(11, 3, 10), Stage.SELF_ASSESSMENT, due(11, 12))  # registration: Tue 2, Wed 3
    j.complete(vn(11, 8, 10), Stage.COUNCIL_ASSESSMENT, due(11, 12))  # self-assessment: Thu 4, Fri 5, Mon 8
    j.complete(vn(11, 10), Stage.PUBLIC_POSTING, due(11, 17))  # council: Tue 9, Wed 10
    j.complete(vn(11, 16), Stage.COUNCIL_ASSESSMENT, due(11, 19), **OBJECTION)  # posting: Thu 11 .. Tue 16
    j.complete(vn(11, 18), Stage.PUBLIC_POSTING, due(11, 25))  # council again: Wed 17, Thu 18
    j.complete(vn(11, 22), Stage.DOSSIER_SUBMISSION, due(11, 26), objections=[])  # posting again: Fri 19, Mon 22
    j.complete(vn(11, 23), Stage.APPRAISAL, due(11, 26))  # dossier: Tue 23
    j.complete(vn(11, 25), Stage.DOSSIER_SUBMISSION, due(11, 30), **RETURN)  # appraisal: Thu 25 (Wed 24 off)
    j.complete(vn(11, 29), Stage.APPRAISAL, due(12, 1))  # dossier again: Fri 26, Mon 29
    j.escalate(due(12, 1))
    j.complete(vn(12, 2, 10), Stage.DOSSIER_SUBMISSION, due(12, 6), **RETURN)  # appraisal: Tue 30 .. Thu 2, late
    j.complete(vn(12, 3), Stage.APPRAISAL, due(12, 9))  # dossier a third time: Fri 3
    j.complete(vn(12, 8), Stage.DECISION, due(12, 17), outcome="accept")  # appraisal: Mon 6 .. Wed 8
    j.complete(vn(12, 13), Stage.COMMENDATION, None, recognised=True)  # decision: Thu 9, Fri 10, Mon 13
    return j.complete(vn(12, 13, 9, 1), Stage.CLOSED, None)  # commendation: checked at once, 0 days


def case_b() -> CaseJournal:
    j = CaseJournal(UNIT_B, PROVINCE, LocalityType.MOUNTAIN_ISLAND_DISADVANTAGED).open(vn(11, 1), due(11, 5))
    j.complete(vn(11, 8), Stage.SELF_ASSESSMENT, None)  # registration: Tue 2 .. Mon 8, 5 days, late
    return j.stage_opens(vn(11, 15, 0), due(11, 26))  # waits with no task until Monday 15; still there


def case_c() -> CaseJournal:
    j = CaseJournal(UNIT_C, OTHER_PROVINCE, LocalityType.OTHER).open(vn(11, 1), due(11, 5))
    j.complete(vn(11, 4), Stage.SELF_ASSESSMENT, due(11, 12))  # registration: Tue 2 .. Thu 4
    return j.complete(vn(11, 12, 16), Stage.COUNCIL_ASSESSMENT, due(11, 19))  # Fri 5, Mon 8 .. Fri 12: 6 days


# Case A's stays as the test counts them by hand: (stage, working days, on time?)
A_STAYS = [
    (Stage.REGISTRATION, 2, True),
    (Stage.SELF_ASSESSMENT, 3, True),
    (Stage.COUNCIL_ASSESSMENT, 2, True),
    (Stage.PUBLIC_POSTING, 4, True),
    (Stage.COUNCIL_ASSESSMENT, 2, True),
    (Stage.PUBLIC_POSTING, 2, True),
    (Stage.DOSSIER_SUBMISSION, 1, True),
    (Stage.APPRAISAL, 1, True),
    (Stage.DOSSIER_SUBMISSION, 2, True),
    (Stage.APPRAISAL, 3, False),
    (Stage.DOSSIER_SUBMISSION, 1, True),
    (Stage.APPRAISAL, 3, True),
    (Stage.DECISION, 3, True),
    (Stage.COMMENDATION, 0, None),
]


async def seed_round(sessions: async_sessionmaker[AsyncSession]) -> list[CaseJournal]:
    """Provinces, the units of both provinces, the round, and the three cases' journals through the real writer."""
    await seed_reference(sessions)
    await seed_province(sessions, OTHER_PROVINCE)
    store = CaseStore(sessions)
    env = ActivityEnvironment()
    cases = [case_a(), case_b(), case_c()]
    for j in cases:
        for inp in j.inputs:
            await env.run(store.record_transition, inp)
    return cases
