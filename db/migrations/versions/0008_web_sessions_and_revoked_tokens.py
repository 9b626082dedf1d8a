"""The pages' server-side sessions and the revoked bearer tokens.

- `web_sessions`: one row per sign-in on the pages. The cookie holds a random session id; the table keeps only its
  SHA-256 (`id_hash`), so a copy of the table signs nobody in. A session names the official, how they signed in
  (`token` or `oidc`), the jti of the token it was opened with (revoking that token ends the session too), and its
  created, expiry and revocation times. Sign-out sets `revoked_at`.
- `revoked_tokens`: the jti of every bearer token refused before its expiry (`xptt token revoke`).

Revision ID: 0008_web_sessions
Revises: 0007_inbox_province
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_web_sessions"
down_revision: str | None = "0007_inbox_province"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("official_id", sa.Text(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("token_jti", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["official_id"], ["officials.id"], name="fk_web_sessions_official_id_officials"),
        sa.PrimaryKeyConstraint("id_hash", name="pk_web_sessions"),
    )
    op.create_index("ix_web_sessions_official_id", "web_sessions", ["official_id"])
    op.create_index("ix_web_sessions_expires_at", "web_sessions", ["expires_at"])
    op.create_table(
        "revoked_tokens",
        sa.Column("jti", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("jti", name="pk_revoked_tokens"),
    )


def downgrade() -> None:
    op.drop_table("revoked_tokens")
    op.drop_index("ix_web_sessions_expires_at", table_name="web_sessions")
    op.drop_index("ix_web_sessions_official_id", table_name="web_sessions")
    op.drop_table("web_sessions")
