"""The report to the ministry: one per province and round, opened when the province's round closes, submitted once.

- `ministry_reports`: round, province, due day, when it opened; once submitted, the frozen snapshot (the round's
  report as reviewed), its SHA-256, who submitted it and when, and the directory journal row that records the hash.
  A submitted report is never changed or removed: PostgreSQL refuses UPDATE and DELETE of it.
- `national_roles`: officials who hold a national role (the ministry), outside any province.

Revision ID: 0015_ministry_reports
Revises: 0014_past_recognitions
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015_ministry_reports"
down_revision: str | None = "0014_past_recognitions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FROZEN_FUNCTION = """
CREATE FUNCTION ministry_reports_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_LEVEL = 'STATEMENT' THEN
        RAISE EXCEPTION 'ministry_reports holds submitted reports: TRUNCATE refused'
            USING HINT = 'a submitted report is frozen';
    END IF;
    IF OLD.submitted_at IS NOT NULL THEN
        RAISE EXCEPTION 'the report of round % for province % was submitted: % refused',
            OLD.round_id, OLD.province_code, TG_OP
            USING HINT = 'a submitted report is frozen; its snapshot and hash never change';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$
"""
FROZEN_TRIGGERS = (
    "CREATE TRIGGER ministry_reports_refuse_change BEFORE UPDATE OR DELETE ON ministry_reports "
    "FOR EACH ROW EXECUTE FUNCTION ministry_reports_frozen()",
    "CREATE TRIGGER ministry_reports_refuse_truncate BEFORE TRUNCATE ON ministry_reports "
    "FOR EACH STATEMENT EXECUTE FUNCTION ministry_reports_frozen()",
)


def upgrade() -> None:
    op.create_table(
        "ministry_reports",
        sa.Column("round_id", sa.Text(), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_by", sa.Text(), nullable=True),
        sa.Column("snapshot", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("snapshot_hash", sa.String(length=64), nullable=True),
        sa.Column("journal_seq", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(submitted_at IS NULL) = (snapshot_hash IS NULL) AND (submitted_at IS NULL) = (snapshot IS NULL)",
            name=op.f("ck_ministry_reports_submitted_whole"),
        ),
        sa.CheckConstraint(
            "snapshot_hash IS NULL OR snapshot_hash ~ '^[0-9a-f]{64}$'", name=op.f("ck_ministry_reports_hash_hex")
        ),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"], name=op.f("fk_ministry_reports_round_id_rounds")),
        sa.ForeignKeyConstraint(
            ["province_code"], ["provinces.code"], name=op.f("fk_ministry_reports_province_code_provinces")
        ),
        sa.PrimaryKeyConstraint("round_id", "province_code", name=op.f("pk_ministry_reports")),
    )
    op.execute(FROZEN_FUNCTION)
    for statement in FROZEN_TRIGGERS:
        op.execute(statement)
    op.create_table(
        "national_roles",
        sa.Column("official_id", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("granted_by", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["official_id"], ["officials.id"], name=op.f("fk_national_roles_official_id_officials")
        ),
        sa.PrimaryKeyConstraint("official_id", "role", name=op.f("pk_national_roles")),
    )


def downgrade() -> None:
    op.drop_table("national_roles")
    op.execute("DROP TRIGGER ministry_reports_refuse_truncate ON ministry_reports")
    op.execute("DROP TRIGGER ministry_reports_refuse_change ON ministry_reports")
    op.execute("DROP FUNCTION ministry_reports_frozen()")
    op.drop_table("ministry_reports")
