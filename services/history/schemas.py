"""What the past-rounds service answers: the per-row report of an import, the recognitions a province holds."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

Outcome = Literal["create", "change", "unchanged", "refuse"]


class RowOutcome(BaseModel):
    """One row of the file: what it would do (or did), or why it is refused (`field`: the column at fault)."""

    row: int = Field(description="the row's line in the file (the header is line 1)")
    outcome: Outcome
    unit_code: str | None = None
    unit_name: str | None = None
    district_name: str | None = None
    year: str | None = None
    round_id: str | None = None
    decision_number: str | None = None
    decision_date: date | None = None
    code: str | None = None
    field: str | None = None
    value: str | None = None
    detail: str | None = None
    changes: list[str] = Field(default_factory=list)


class ImportReport(BaseModel):
    province: str
    file_name: str | None
    format: Literal["csv", "xlsx"]
    file_sha256: str
    apply: bool
    applied: bool = Field(description="written: asked to apply and no row refused")
    rows: int
    created: int
    changed: int
    unchanged: int
    refused: int
    journal_rows: int
    outcomes: list[RowOutcome]


class PastRecognitionOut(BaseModel):
    unit_code: str
    unit_name: str
    district_name: str | None
    former: bool = Field(description="a unit before 1 July 2025 (its code a former one)")
    round_id: str
    year: int
    decision_number: str
    decision_date: date
    batch_id: str
    imported_at: datetime
    imported_by: str | None
