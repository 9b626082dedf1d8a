"""The administrators' board without asking Temporal about each case: failing activities, and who holds a role where.

- `activity_failures`: one row per workflow and activity type whose latest attempt raised and will be tried again
  (the attempt that failed, its error, when the failures began and the latest one; unit, province and stage when the
  activity's input carries them). Written by the worker's interceptor (activities/attempts.py): upserted when an
  attempt raises, deleted when a later attempt succeeds or the retries end.
- `ix_role_assignments_province_role_unit`: who holds a role over a unit or its whole province, asked for each open
  task by the board (its tasks whose role no one holds); before it every assignment of the province was read per task.

Revision ID: 0016_activity_failures
Revises: 0015_ministry_reports
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_activity_failures"
down_revision: str | None = "0015_ministry_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "activity_failures",
        sa.Column("workflow_id", sa.Text(), nullable=False),
        sa.Column("activity_type", sa.Text(), nullable=False),
        sa.Column("workflow_type", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Text(), nullable=True),
        sa.Column("case_id", sa.Text(), nullable=True),
        sa.Column("unit_code", sa.String(length=5), nullable=True),
        sa.Column("province_code", sa.String(length=2), nullable=True),
        sa.Column("stage", sa.Text(), nullable=True),
        sa.Column("failed_attempt", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("workflow_id", "activity_type", name=op.f("pk_activity_failures")),
    )
    op.create_index(
        "ix_role_assignments_province_role_unit",
        "role_assignments",
        ["province_code", "role", "unit_code"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_role_assignments_province_role_unit", table_name="role_assignments")
    op.drop_table("activity_failures")
