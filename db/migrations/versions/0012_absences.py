"""Absences: an official's period of leave in a province and the deputy who stands in.

- `absences`: official, deputy (another official), province, first and last day (inclusive, days in Vietnam), the
  reason, who recorded it and when; `cancelled_at`/`cancelled_by` for one called off before it began. Rows are
  never deleted; every change is also a row of the directory journal (services/officials/absences.py).

Revision ID: 0012_absences
Revises: 0011_officials_directory
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_absences"
down_revision: str | None = "0011_officials_directory"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "absences",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("official_id", sa.Text(), nullable=False),
        sa.Column("deputy_id", sa.Text(), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.Text(), nullable=True),
        sa.CheckConstraint("starts_on <= ends_on", name=op.f("ck_absences_days")),
        sa.CheckConstraint("official_id <> deputy_id", name=op.f("ck_absences_deputy_is_another")),
        sa.ForeignKeyConstraint(["official_id"], ["officials.id"], name=op.f("fk_absences_official_id_officials")),
        sa.ForeignKeyConstraint(["deputy_id"], ["officials.id"], name=op.f("fk_absences_deputy_id_officials")),
        sa.ForeignKeyConstraint(
            ["province_code"], ["provinces.code"], name=op.f("fk_absences_province_code_provinces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_absences")),
    )
    op.create_index(op.f("ix_absences_official_id"), "absences", ["official_id"], unique=False)
    op.create_index(op.f("ix_absences_deputy_id"), "absences", ["deputy_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_absences_deputy_id"), table_name="absences")
    op.drop_index(op.f("ix_absences_official_id"), table_name="absences")
    op.drop_table("absences")
