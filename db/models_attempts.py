"""The failing activities of the case workflows (migration 0016), written by the worker's interceptor
(activities/attempts.py) and read by the administrators' board (services/board/failing.py).

One row per workflow and activity type whose latest attempt raised and that Temporal will try again: the attempt that
failed (Temporal's pending activity is at the next one), its error (truncated), when this run of failures began and
the latest failure. The attempt that then succeeds deletes the row, and so does a failure that ends the retries. Unit,
province and stage are the activity input's when it carries them; the board falls back on the case's row and the
unit's. No foreign keys: recording a failure never depends on what the read model already holds.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base


class ActivityFailureRow(Base):
    __tablename__ = "activity_failures"
    workflow_id: Mapped[str] = mapped_column(Text, primary_key=True)
    activity_type: Mapped[str] = mapped_column(Text, primary_key=True)
    workflow_type: Mapped[str] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(Text)
    case_id: Mapped[str | None] = mapped_column(Text)
    unit_code: Mapped[str | None] = mapped_column(String(5))
    province_code: Mapped[str | None] = mapped_column(String(2))
    stage: Mapped[str | None] = mapped_column(Text)
    failed_attempt: Mapped[int] = mapped_column(Integer)  # the attempt that failed; Temporal's pending one is next
    last_error: Mapped[str] = mapped_column(Text)
    first_failed_at: Mapped[datetime]
    last_failed_at: Mapped[datetime]
