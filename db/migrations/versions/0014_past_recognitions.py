"""Past rounds and merger lineage: recognitions of rounds before this system existed, and each current unit's
predecessors (the communes merged into it on 1 July 2025).

- `past_recognitions`: one recognition of a unit in a past round, imported from a province's file
  (services/history): the province that imported it, the unit as it was then (code, name, district; `former`: a
  unit before 1 July 2025, its code a pre-2025 one), the round (`rule_set_id:year`) and year, the decision's number
  and date, the import batch (the file's SHA-256), who imported it and when. One row per unit code and round: a
  re-import of the same row changes nothing.
- `unit_lineage`: current unit code -> former unit code (a unit not merged is its own predecessor), with the former
  unit's name, district and province, whether the former unit was divided among several new units and whether this
  unit is its default successor; loaded from the `vietnamadminunits` data files (services/history/lineage.py).

Revision ID: 0014_past_recognitions
Revises: 0013_province_targets
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_past_recognitions"
down_revision: str | None = "0013_province_targets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "past_recognitions",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("unit_code", sa.String(length=5), nullable=False),
        sa.Column("unit_name", sa.Text(), nullable=False),
        sa.Column("district_name", sa.Text(), nullable=True),
        sa.Column("former", sa.Boolean(), nullable=False),
        sa.Column("rule_set_id", sa.Text(), nullable=False),
        sa.Column("round_id", sa.Text(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("decision_number", sa.Text(), nullable=False),
        sa.Column("decision_date", sa.Date(), nullable=False),
        sa.Column("batch_id", sa.String(length=64), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["province_code"], ["provinces.code"], name=op.f("fk_past_recognitions_province_code_provinces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_past_recognitions")),
        sa.UniqueConstraint("unit_code", "round_id", name=op.f("uq_past_recognitions_unit_code_round_id")),
    )
    op.create_index(op.f("ix_past_recognitions_province_code"), "past_recognitions", ["province_code"], unique=False)
    op.create_table(
        "unit_lineage",
        sa.Column("unit_code", sa.String(length=5), nullable=False),
        sa.Column("former_code", sa.String(length=5), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("former_name", sa.Text(), nullable=False),
        sa.Column("former_district_name", sa.Text(), nullable=True),
        sa.Column("former_province_name", sa.Text(), nullable=True),
        sa.Column("divided", sa.Boolean(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["province_code"], ["provinces.code"], name=op.f("fk_unit_lineage_province_code_provinces")
        ),
        sa.PrimaryKeyConstraint("unit_code", "former_code", name=op.f("pk_unit_lineage")),
    )
    op.create_index(op.f("ix_unit_lineage_province_code"), "unit_lineage", ["province_code"], unique=False)
    op.create_index(op.f("ix_unit_lineage_former_code"), "unit_lineage", ["former_code"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_unit_lineage_former_code"), table_name="unit_lineage")
    op.drop_index(op.f("ix_unit_lineage_province_code"), table_name="unit_lineage")
    op.drop_table("unit_lineage")
    op.drop_index(op.f("ix_past_recognitions_province_code"), table_name="past_recognitions")
    op.drop_table("past_recognitions")
