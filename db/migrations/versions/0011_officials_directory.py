"""The officials' directory: who the officials are, how to reach them, what they hold and since when; its journal.

- `officials` gains `position_title`, `phone` (national form, 10 digits starting 0), `locale` ('vi' by default, or
  'en'), the OIDC `oidc_issuer` + `oidc_subject` they sign in as (both or neither; one official per pair), and
  `updated_at`, `created_by`, `updated_by` (official ids; NULL: seeded). Emails are unique whatever their case.
- `role_assignments` gains `valid_from` and `valid_until` (days, inclusive; NULL: open-ended) and an index by
  province.
- `directory_journal`: every change to a province's officials and assignments, one hash chain per province
  (format `xptt-directory-v1`, services/officials/journal.py). A trigger refuses UPDATE and DELETE (per row) and
  TRUNCATE (per statement) for every role, the owner included, as 0004 does for the case journal; the application's
  role may only SELECT and INSERT it.

Revision ID: 0011_officials_directory
Revises: 0010_case_waiting_until
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011_officials_directory"
down_revision: str | None = "0010_case_waiting_until"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "xptt_app"  # created by 0004

APPEND_ONLY_FUNCTION = """
CREATE FUNCTION directory_journal_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_LEVEL = 'ROW' THEN
        RAISE EXCEPTION 'directory_journal is append-only: % of the row of province % seq % refused',
            TG_OP, OLD.province_code, OLD.seq
            USING HINT = 'journal rows are never changed or removed; append a correcting row instead';
    END IF;
    RAISE EXCEPTION 'directory_journal is append-only: TRUNCATE refused'
        USING HINT = 'journal rows are never changed or removed';
END
$$
"""
APPEND_ONLY_TRIGGERS = (
    "CREATE TRIGGER directory_journal_refuse_update_delete BEFORE UPDATE OR DELETE ON directory_journal "
    "FOR EACH ROW EXECUTE FUNCTION directory_journal_append_only()",
    "CREATE TRIGGER directory_journal_refuse_truncate BEFORE TRUNCATE ON directory_journal "
    "FOR EACH STATEMENT EXECUTE FUNCTION directory_journal_append_only()",
)


def _officials() -> None:
    for name in ("position_title", "phone", "oidc_issuer", "oidc_subject", "created_by", "updated_by"):
        op.add_column("officials", sa.Column(name, sa.Text(), nullable=True))
    op.add_column("officials", sa.Column("locale", sa.Text(), server_default="vi", nullable=False))
    op.add_column(
        "officials", sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)
    )
    op.create_unique_constraint(
        op.f("uq_officials_oidc_issuer_oidc_subject"), "officials", ["oidc_issuer", "oidc_subject"]
    )
    op.create_check_constraint("oidc_pair", "officials", "(oidc_issuer IS NULL) = (oidc_subject IS NULL)")
    op.create_check_constraint("locale", "officials", "locale IN ('vi', 'en')")
    op.create_index(
        "ix_officials_email_lower",
        "officials",
        [sa.text("lower(email)")],
        unique=True,
        postgresql_where=sa.text("email IS NOT NULL"),
    )


def _assignments() -> None:
    op.add_column("role_assignments", sa.Column("valid_from", sa.Date(), nullable=True))
    op.add_column("role_assignments", sa.Column("valid_until", sa.Date(), nullable=True))
    op.create_check_constraint(
        "validity", "role_assignments", "valid_from IS NULL OR valid_until IS NULL OR valid_from <= valid_until"
    )
    op.create_index(op.f("ix_role_assignments_province_code"), "role_assignments", ["province_code"], unique=False)


def _journal() -> None:
    jsonb = postgresql.JSONB(astext_type=sa.Text())
    op.create_table(
        "directory_journal",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.Text(), nullable=True),
        sa.Column("official_id", sa.Text(), nullable=True),
        sa.Column("assignment_id", sa.BigInteger(), nullable=True),
        sa.Column("payload", jsonb, server_default="{}", nullable=False),
        sa.Column("before", jsonb, server_default="{}", nullable=False),
        sa.Column("after", jsonb, server_default="{}", nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("hash ~ '^[0-9a-f]{64}$'", name=op.f("ck_directory_journal_hash_is_sha256_hex")),
        sa.CheckConstraint("prev_hash ~ '^[0-9a-f]{64}$'", name=op.f("ck_directory_journal_prev_hash_is_sha256_hex")),
        sa.ForeignKeyConstraint(
            ["province_code"], ["provinces.code"], name=op.f("fk_directory_journal_province_code_provinces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_journal")),
        sa.UniqueConstraint("province_code", "seq", name=op.f("uq_directory_journal_province_code_seq")),
    )
    op.create_index(op.f("ix_directory_journal_official_id"), "directory_journal", ["official_id"], unique=False)
    op.execute(APPEND_ONLY_FUNCTION)
    for statement in APPEND_ONLY_TRIGGERS:
        op.execute(statement)
    # The default privileges of 0004 granted UPDATE and DELETE on this new table: the journal is append-only.
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON directory_journal FROM {APP_ROLE}")


def upgrade() -> None:
    _officials()
    _assignments()
    _journal()


def downgrade() -> None:
    op.execute("DROP TRIGGER directory_journal_refuse_truncate ON directory_journal")
    op.execute("DROP TRIGGER directory_journal_refuse_update_delete ON directory_journal")
    op.execute("DROP FUNCTION directory_journal_append_only()")
    op.drop_index(op.f("ix_directory_journal_official_id"), table_name="directory_journal")
    op.drop_table("directory_journal")
    op.drop_index(op.f("ix_role_assignments_province_code"), table_name="role_assignments")
    op.drop_constraint(op.f("ck_role_assignments_validity"), "role_assignments", type_="check")
    op.drop_column("role_assignments", "valid_until")
    op.drop_column("role_assignments", "valid_from")
    op.drop_index("ix_officials_email_lower", table_name="officials")
    op.drop_constraint(op.f("ck_officials_locale"), "officials", type_="check")
    op.drop_constraint(op.f("ck_officials_oidc_pair"), "officials", type_="check")
    op.drop_constraint(op.f("uq_officials_oidc_issuer_oidc_subject"), "officials", type_="unique")
    for name in ("updated_at", "locale", "updated_by", "created_by", "oidc_subject", "oidc_issuer", "phone"):
        op.drop_column("officials", name)
    op.drop_column("officials", "position_title")
