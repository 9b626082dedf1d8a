"""What the report to the ministry answers: a province's report (task, draft hash, frozen snapshot), its verification,
and the national report across provinces."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.ministry_report import NationalTotals, ReportStatus
from services.fields import ProvinceCode


class SubmitIn(BaseModel):
    """The administrator submits the draft they reviewed: its hash, as the draft showed it."""

    model_config = ConfigDict(extra="forbid")

    province: ProvinceCode
    reviewed_hash: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="the draft_hash of the report as reviewed (SHA-256, lowercase hex)"
    )


class MinistryReportOut(BaseModel):
    round_id: str
    province: str
    province_name: str
    status: ReportStatus
    due_on: date | None = Field(description="null until the round closes and the report task opens")
    opened_at: datetime | None
    draft_hash: str | None = Field(
        default=None,
        description="the hash of the report as it stands now (to the province's officials, until submitted)",
    )
    draft: dict[str, Any] | None = Field(default=None, description="the report as it stands now, until submitted")
    submitted_at: datetime | None = None
    submitted_by: str | None = None
    submitted_by_name: str | None = None
    snapshot_hash: str | None = None
    snapshot: dict[str, Any] | None = Field(default=None, description="the frozen report, once submitted")
    journal_seq: int | None = Field(default=None, description="the directory journal row that records the hash")


class VerificationOut(BaseModel):
    round_id: str
    province: str
    ok: bool
    stored_hash: str
    recomputed_hash: str
    journal_hash: str | None = Field(description="the hash the journal row recorded; null when the row is missing")
    journal_seq: int | None


class ProvinceStatus(BaseModel):
    province: str
    province_name: str
    status: ReportStatus
    due_on: date | None
    submitted_at: datetime | None
    units: int | None = Field(description="from the submitted snapshot")
    recognised: int | None
    recognised_share: float | None = Field(description="a fraction, from the submitted snapshot")
    snapshot_hash: str | None


class NationalOut(BaseModel):
    round_id: str
    totals: NationalTotals
    provinces: list[ProvinceStatus]
    generated_at: datetime
