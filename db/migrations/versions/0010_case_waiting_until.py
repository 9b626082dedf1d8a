"""A case waiting for its next stage to open.

- `cases.waiting_until`: when the task of the case's current stage opens; set while a registered unit strives
  (đang phấn đấu) until self-assessment opens (default 1 October of the assessment year), NULL otherwise. The
  board, the round's progress and the case page show such a case as striving, not as stuck without a task.

Revision ID: 0010_case_waiting_until
Revises: 0009_idempotency_keys
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_case_waiting_until"
down_revision: str | None = "0009_idempotency_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("waiting_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("cases", "waiting_until")
