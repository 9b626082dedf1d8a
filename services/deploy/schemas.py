"""What the pre-deploy check reports: the running workflows it replayed against this checkout's workflow code, and
which of them the new code cannot replay."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

Kind = Literal["case", "round"]
# nondeterminism: the new code issues other commands than the history recorded; error: the replay raised something
# else (a workflow task failure); unreadable: the history could not be fetched.
FailureKind = Literal["nondeterminism", "error", "unreadable"]


class RunningWorkflow(BaseModel):
    """A running case or round as the server lists it."""

    workflow_id: str
    run_id: str
    kind: Kind
    rule_set_id: str
    stage: str | None = None  # cases: their Stage search attribute
    province_code: str | None = None
    unit_code: str | None = None


class Failure(BaseModel):
    workflow: RunningWorkflow
    kind: FailureKind
    message: str  # shortened: the first line of the reason, at most MESSAGE_LIMIT characters


class Group(BaseModel):
    """One stage of one rule set (cases) or one rule set (rounds): how many run, how many were replayed, failed."""

    kind: Kind
    rule_set_id: str
    stage: str | None
    running: int
    checked: int
    failed: int


class CheckReport(BaseModel):
    build_id: str  # the workflow code replayed (services/deploy/versioning.py code_build_id)
    sample: int | None  # per group; None: every running workflow
    province_code: str | None
    running: int
    checked: int
    groups: list[Group]
    failures: list[Failure]

    @property
    def passed(self) -> bool:
        return not self.failures
