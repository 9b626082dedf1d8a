"""The report to the ministry (migration 0015): one per province and round, and the officials of the ministry.

A report opens when the province's round closes (activities/round_store.py) and is submitted once by the province's
administrator (services/ministry): the submission freezes the round's report as reviewed (`snapshot`) with its SHA-256
(`snapshot_hash`), also written into the province's directory journal (`journal_seq`). PostgreSQL refuses UPDATE and
DELETE of a submitted row.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base


class MinistryReportRow(Base):
    __tablename__ = "ministry_reports"
    __table_args__ = (
        CheckConstraint(
            "(submitted_at IS NULL) = (snapshot_hash IS NULL) AND (submitted_at IS NULL) = (snapshot IS NULL)",
            name="submitted_whole",
        ),
        CheckConstraint("snapshot_hash IS NULL OR snapshot_hash ~ '^[0-9a-f]{64}$'", name="hash_hex"),
    )
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.id"), primary_key=True)
    province_code: Mapped[str] = mapped_column(ForeignKey("provinces.code"), primary_key=True)
    due_on: Mapped[date] = mapped_column(Date)
    opened_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    submitted_by: Mapped[str | None] = mapped_column(Text)
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    snapshot_hash: Mapped[str | None] = mapped_column(String(64))
    journal_seq: Mapped[int | None] = mapped_column(Integer)


class NationalRoleRow(Base):
    """A national role (the ministry: reads every province's reports, writes nothing), granted by the operator."""

    __tablename__ = "national_roles"
    official_id: Mapped[str] = mapped_column(ForeignKey("officials.id"), primary_key=True)
    role: Mapped[str] = mapped_column(Text, primary_key=True)
    granted_at: Mapped[datetime]
    granted_by: Mapped[str | None] = mapped_column(Text)
