"""The inbox's province-wide views in due-time order: an index per (province, status) and per province.

An official whose scope is a whole province (admin, auditor, the appraising office and the deciding authority asking
for every task, `mine=false`) lists the province's tasks by (due_at, id). ix_tasks_inbox leads with the role, so
without these PostgreSQL fetched every open task of the province, joined each to its unit and case, and sorted them
to keep 50 (about 250 ms for a province of 5,000 open tasks); with them it reads the first 51 in order.

Revision ID: 0007_inbox_province
Revises: 0006_task_assignee
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007_inbox_province"
down_revision: str | None = "0006_task_assignee"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_tasks_province_status_due", "tasks", ["province_code", "status", "due_at", "id"])
    op.create_index("ix_tasks_province_due", "tasks", ["province_code", "due_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_tasks_province_due", table_name="tasks")
    op.drop_index("ix_tasks_province_status_due", table_name="tasks")
