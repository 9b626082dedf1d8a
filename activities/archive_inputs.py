"""Payloads of the archive activity (kept apart from activities/archive.py so workflows import no database code)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ArchiveHistoryInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    case_id: str
    workflow_id: str
    run_id: str | None = None  # None: the latest run


class ArchiveHistoryResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    case_id: str
    workflow_id: str
    run_id: str
    sha256: str  # of the stored version
    event_count: int  # of the stored version
    complete: bool  # the stored version holds the execution's close event
    replaced: bool  # this call stored its fetch (first archive, or longer than the one stored)
