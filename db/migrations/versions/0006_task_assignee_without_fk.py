"""A task's assignee is what the case workflow decided; the projection must never refuse it.

The API checks that an official exists and holds the role before it asks the workflow to reassign; a foreign key
here could only turn a later deactivation or a race into an activity that fails for ever.

Revision ID: 0006_task_assignee
Revises: 0005_notifications
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006_task_assignee"
down_revision: str | None = "0005_notifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint("fk_tasks_assignee_id_officials", "tasks", type_="foreignkey")


def downgrade() -> None:
    op.create_foreign_key("fk_tasks_assignee_id_officials", "tasks", "officials", ["assignee_id"], ["id"])
