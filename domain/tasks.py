"""A human task as the procedure sees it: who acts, by when, and where it stands on its escalation ladder.

`first_task` opens a stage's task; `schedule` sets its due time, reminder and ladder (again, when the due time moves).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from domain.calendar import reminder_at
from domain.procedure import StageSpec, escalation_due_times, stage_due_at
from domain.stages import Role, Stage


class EscalationStep(BaseModel):
    """A rung of the ladder: `role` is asked from the previous rung's end (or the due time) until `ends_at`."""

    model_config = ConfigDict(frozen=True)

    role: Role
    ends_at: datetime


class OpenTask(BaseModel):
    model_config = ConfigDict(frozen=True)

    task_id: str
    stage: Stage
    role: Role
    started_at: datetime
    due_at: datetime
    reminder_at: datetime | None = None
    ladder: tuple[EscalationStep, ...] = ()
    escalation_level: int = 0  # rungs climbed so far (0: with its own role)
    reminded: bool = False
    final_applied: bool = False
    assignee_id: str | None = None  # set when an administrator gives the task to one official

    @property
    def escalated_to(self) -> Role | None:
        return self.ladder[self.escalation_level - 1].role if self.escalation_level else None

    @property
    def final_at(self) -> datetime:
        """When the stage's final policy applies: the end of the last rung, or the due time without a ladder."""
        return self.ladder[-1].ends_at if self.ladder else self.due_at

    def shifted(self, delta: timedelta) -> OpenTask:
        """Every deadline moved by `delta` (a hold's length)."""
        return self.model_copy(
            update={
                "due_at": self.due_at + delta,
                "reminder_at": None if self.reminder_at is None else self.reminder_at + delta,
                "ladder": tuple(s.model_copy(update={"ends_at": s.ends_at + delta}) for s in self.ladder),
            }
        )


def schedule(task: OpenTask, spec: StageSpec, due: datetime) -> OpenTask:
    """The task with its due time, reminder and ladder set from `due` (climbing starts again from the bottom)."""
    remind = reminder_at(due, spec.reminder_working_days_before) if spec.reminder_working_days_before else None
    if remind is not None and remind <= task.started_at:
        remind = None  # a window shorter than the reminder's lead (a stage opened late): the new task is the news
    ladder = tuple(EscalationStep(role=r, ends_at=t) for r, t in escalation_due_times(spec, due))
    return task.model_copy(
        update={
            "due_at": due,
            "reminder_at": remind,
            "ladder": ladder,
            "escalation_level": 0,
            "reminded": False,
            "final_applied": False,
        }
    )


def first_task(
    *, task_id: str, stage: Stage, role: Role, spec: StageSpec, started_at: datetime, year: int, due: datetime | None
) -> OpenTask:
    """A stage's task, due at `due` (its calendar window) or, for a case without a calendar, by the profile alone."""
    due = stage_due_at(spec, started_at, year=year) if due is None else due
    task = OpenTask(task_id=task_id, stage=stage, role=role, started_at=started_at, due_at=due)
    return schedule(task, spec, due)
