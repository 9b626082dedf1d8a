"""Province targets: the share of a province's units to recognise per plan period, with the plan that set it.

- `province_targets`: province, first and last year (inclusive), share (over 0, at most 1), plan, source, who
  changed it last and when; one row per province and first year. Changes are journalled in the province's directory
  journal (`target_set`, services/targets.py).

Revision ID: 0013_province_targets
Revises: 0012_absences
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_province_targets"
down_revision: str | None = "0012_absences"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "province_targets",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("first_year", sa.Integer(), nullable=False),
        sa.Column("last_year", sa.Integer(), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.Column("plan", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=True),
        sa.CheckConstraint("share > 0 AND share <= 1", name=op.f("ck_province_targets_share")),
        sa.CheckConstraint("first_year <= last_year", name=op.f("ck_province_targets_years")),
        sa.ForeignKeyConstraint(
            ["province_code"], ["provinces.code"], name=op.f("fk_province_targets_province_code_provinces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_province_targets")),
        sa.UniqueConstraint("province_code", "first_year", name=op.f("uq_province_targets_province_code_first_year")),
    )
    op.create_index(op.f("ix_province_targets_province_code"), "province_targets", ["province_code"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_province_targets_province_code"), table_name="province_targets")
    op.drop_table("province_targets")
