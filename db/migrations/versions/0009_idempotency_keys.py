"""The body first sent with each Idempotency-Key.

- `idempotency_keys`: one row per (key, official, route): the SHA-256 of the canonical JSON of the body first sent
  with the key (`fingerprint`) and when. A retry with the same key and the same body answers the first result; the
  same key with another body is refused (422 `idempotency_key_mismatch`), as the IETF Idempotency-Key draft says.
  `created_at` is indexed so that old keys can be removed by age.

Revision ID: 0009_idempotency_keys
Revises: 0008_web_sessions
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_idempotency_keys"
down_revision: str | None = "0008_web_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("official_id", sa.Text(), nullable=False),
        sa.Column("route", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("key", "official_id", "route", name="pk_idempotency_keys"),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
