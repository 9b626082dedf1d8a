"""Past rounds and the merger lineage (migration 0014): recognitions imported from a province's file, and each
current unit's predecessors (services/history)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base


class PastRecognitionRow(Base):
    """A unit recognised in a round before this system held it. `unit_code` is the unit as it was: a former
    (pre-1 July 2025) code when `former`, else a current one. One row per unit and round."""

    __tablename__ = "past_recognitions"
    __table_args__ = (UniqueConstraint("unit_code", "round_id"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    province_code: Mapped[str] = mapped_column(ForeignKey("provinces.code"), index=True)
    unit_code: Mapped[str] = mapped_column(String(5))
    unit_name: Mapped[str] = mapped_column(Text)
    district_name: Mapped[str | None] = mapped_column(Text)
    former: Mapped[bool] = mapped_column(Boolean)
    rule_set_id: Mapped[str] = mapped_column(Text)
    round_id: Mapped[str] = mapped_column(Text)
    year: Mapped[int] = mapped_column(Integer)
    decision_number: Mapped[str] = mapped_column(Text)
    decision_date: Mapped[date] = mapped_column(Date)
    batch_id: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime]
    imported_by: Mapped[str | None] = mapped_column(Text)


class UnitLineageRow(Base):
    """A current unit and one of its predecessors (itself when it was not merged), from `vietnamadminunits`."""

    __tablename__ = "unit_lineage"
    unit_code: Mapped[str] = mapped_column(String(5), primary_key=True)
    former_code: Mapped[str] = mapped_column(String(5), primary_key=True, index=True)
    province_code: Mapped[str] = mapped_column(ForeignKey("provinces.code"), index=True)
    former_name: Mapped[str] = mapped_column(Text)
    former_district_name: Mapped[str | None] = mapped_column(Text)
    former_province_name: Mapped[str | None] = mapped_column(Text)
    divided: Mapped[bool] = mapped_column(Boolean)
    is_default: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(Text)
