"""What `xptt reconcile` reports: per case, what the database lacks against what its workflow recorded, and the
figures of the run."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, computed_field


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class CaseGap(_Out):
    """One case whose rows disagree with its workflow. `db_*` is what PostgreSQL holds (None: no row), `wf_*` what
    the workflow recorded (its completed `record_transition` activities, and the opening its round recorded)."""

    case_id: str
    unit_code: str
    unit_name: str | None = None
    province_code: str
    round_id: str
    running: bool  # the workflow still runs (else it has closed)
    db_seq: int | None
    wf_seq: int
    missing_seqs: list[int] = Field(default_factory=list)  # transitions the journal lacks, in order
    missing_stages: list[str] = Field(default_factory=list)  # the stages those transitions led to (codes)
    db_stage: str | None
    wf_stage: str
    db_status: str | None
    wf_status: str
    db_open_task: str | None  # the case's open task in PostgreSQL
    wf_open_task: str | None  # the open task the workflow's last transition left
    history_unarchived: bool = False  # a closed case whose event history PostgreSQL does not keep
    repairable: bool = True  # False: the rows differ in a way no recorded transition explains (see `note`)
    note: str | None = None
    # With --apply: what was written again.
    rerecorded_seqs: list[int] = Field(default_factory=list)
    notifications_dispatched: int = 0  # deliveries started for re-recorded news that had never left
    notifications_settled: int = 0  # re-recorded news whose delivery had finished: its outcome written back
    history_archived: bool = False


class RoundGap(_Out):
    """A round workflow whose own recordings the database lacks: its opening (the round row, its cases' province)
    or its report."""

    workflow_id: str
    round_id: str
    province_code: str
    opening_missing: bool
    report_missing: bool
    rerecorded: bool = False
    notifications_dispatched: int = 0
    notifications_settled: int = 0


class ReconcileReport(_Out):
    province: str | None
    round_id: str | None
    applied: bool
    checked: int  # cases compared
    running: int  # of which still running
    lacking: int  # cases whose rows disagreed (before any re-recording)
    rerecorded_cases: int = 0
    rerecorded_transitions: int = 0
    remaining: int = 0  # cases still disagreeing after re-recording (and the re-check)
    in_flight: int = 0  # cases with a recording under way (scheduled, not completed): left to the workflow
    seconds: float = 0.0
    rounds: list[RoundGap] = Field(default_factory=list)
    cases: list[CaseGap] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def in_agreement(self) -> bool:
        pending_rounds = [r for r in self.rounds if not r.rerecorded] if self.applied else self.rounds
        return (self.remaining if self.applied else self.lacking) == 0 and not pending_rounds
