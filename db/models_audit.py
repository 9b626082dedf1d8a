"""Archived Temporal histories: a case's event history kept in PostgreSQL, beyond the namespace's retention.

One row per (workflow_id, run_id). The most complete version wins: the archive written by the workflow itself at
close (which cannot hold its own completion event) is replaced by a later, longer fetch (`xptt audit archive`),
never by a shorter one. `sha256` is SHA-256 of the canonical JSON (RFC 8785) of `history`, the JSON form of
Temporal's History message; `journal_head_*` anchor the case's journal as it stood when the history was archived.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base


class WorkflowHistoryRow(Base):
    __tablename__ = "workflow_histories"
    __table_args__ = (UniqueConstraint("workflow_id", "run_id"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    workflow_id: Mapped[str] = mapped_column(Text)
    run_id: Mapped[str] = mapped_column(Text)
    archived_at: Mapped[datetime]
    history: Mapped[dict[str, Any]] = mapped_column(JSONB)
    sha256: Mapped[str] = mapped_column(String(64))
    event_count: Mapped[int] = mapped_column(Integer)
    complete: Mapped[bool] = mapped_column(Boolean)  # the history ends with the execution's close event
    journal_head_seq: Mapped[int | None] = mapped_column(Integer)
    journal_head_hash: Mapped[str | None] = mapped_column(String(64))
