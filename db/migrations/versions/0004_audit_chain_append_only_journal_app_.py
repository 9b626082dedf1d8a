"""audit chain, append-only journal, app role, workflow histories

- audit_events gains `before`, `after` (JSONB, default {}) and the hash chain `prev_hash`, `hash` (format
  `xptt-audit-v1`, audit/chain.py); rows already there are chained here, in (case, seq) order, with the hashing
  written out below (a migration never changes when the code does).
- A trigger refuses UPDATE and DELETE (per row) and TRUNCATE (per statement) on audit_events, for every role,
  the owner included (only a superuser can disable it, and that is what `verify` is for).
- `xptt_app`: a NOLOGIN group role for the API and the workers (the deployment grants it to their login role):
  SELECT, INSERT, UPDATE, DELETE on the application's tables, but only SELECT and INSERT on audit_events; created
  once per cluster (roles are cluster-wide), so creating it twice is no error.
- workflow_histories: archived Temporal histories (db/models_audit.py).

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-25 16:02:41.118031
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "xptt_app"

CREATE_ROLE = f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '{APP_ROLE}') THEN
        BEGIN
            CREATE ROLE {APP_ROLE} NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- created meanwhile by a migration of another database of this cluster
        END;
    END IF;
END
$$
"""

APPEND_ONLY_FUNCTION = """
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_LEVEL = 'ROW' THEN
        RAISE EXCEPTION 'audit_events is append-only: % of the row of case % seq % refused', TG_OP, OLD.case_id, OLD.seq
            USING HINT = 'journal rows are never changed or removed; append a correcting row instead';
    END IF;
    RAISE EXCEPTION 'audit_events is append-only: TRUNCATE refused'
        USING HINT = 'journal rows are never changed or removed';
END
$$
"""
APPEND_ONLY_TRIGGERS = (
    "CREATE TRIGGER audit_events_refuse_update_delete BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
    "CREATE TRIGGER audit_events_refuse_truncate BEFORE TRUNCATE ON audit_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()",
)

HASHED = (
    "case_id, seq, action, actor_id, actor_role, unit_code, from_stage, to_stage, task_id, payload::text AS payload, "
    "before::text AS before, after::text AS after, reason, rule_set_id, workflow_id, run_id, update_id, occurred_at"
)

# -- the row hash, format xptt-audit-v1: SHA-256 of the JSON Canonicalization Scheme (RFC 8785) of the row's values,
# -- with "format" and "prev_hash" (the genesis value for seq 1)
FORMAT = "xptt-audit-v1"
GENESIS = "0" * 64
HASHED_FIELDS = (
    "case_id",
    "seq",
    "action",
    "actor_id",
    "actor_role",
    "unit_code",
    "from_stage",
    "to_stage",
    "task_id",
    "payload",
    "before",
    "after",
    "reason",
    "rule_set_id",
    "workflow_id",
    "run_id",
    "update_id",
    "occurred_at",
)
MAX_SAFE_INTEGER = 2**53 - 1


def _number(x: float) -> str:
    """ECMAScript Number::toString of a finite double (RFC 8785 §3.2.2.3)."""
    if math.isnan(x) or math.isinf(x):
        raise ValueError(f"{x} is not a JSON number")
    if x == 0:
        return "0"
    if x < 0:
        return "-" + _number(-x)
    _, digit_tuple, exponent = Decimal(repr(x)).as_tuple()
    written = "".join(map(str, digit_tuple))
    digits = written.rstrip("0")
    assert isinstance(exponent, int)
    k = len(digits)
    n = len(written) + exponent  # x = 0.d1d2...dk × 10^n
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{mantissa}e{'+' if n - 1 >= 0 else '-'}{abs(n - 1)}"


def _jcs(value: Any) -> str:
    if value is None or value is True or value is False:
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise ValueError(f"integer {value} is beyond ±(2^53 − 1)")
        return str(value)
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, Mapping):
        names = sorted(value, key=lambda name: name.encode("utf-16-be", "surrogatepass"))
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + _jcs(value[k]) for k in names) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_jcs(v) for v in value) + "]"
    raise ValueError(f"a {type(value).__name__} is not a JSON value")


def row_hash(values: Mapping[str, Any], prev_hash: str) -> str:
    obj: dict[str, Any] = {"format": FORMAT, **{name: values[name] for name in HASHED_FIELDS}, "prev_hash": prev_hash}
    when = obj["occurred_at"]
    if isinstance(when, datetime):
        if when.tzinfo is None or when.utcoffset() is None:
            raise ValueError(f"occurred_at {when.isoformat()} has no time zone")
        obj["occurred_at"] = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return hashlib.sha256(_jcs(obj).encode("utf-8")).hexdigest()


def _chain_existing_rows() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text(f"SELECT id, {HASHED} FROM audit_events ORDER BY case_id, seq")).mappings().all()
    updates: list[dict[str, object]] = []
    case_id, prev = None, GENESIS
    for row in rows:
        values = dict(row)
        for name in ("payload", "before", "after"):
            values[name] = json.loads(values[name])
        if values["case_id"] != case_id:
            case_id, prev = values["case_id"], GENESIS
        digest = row_hash(values, prev)
        updates.append({"id": row["id"], "prev_hash": prev, "hash": digest})
        prev = digest
    if updates:
        bind.execute(sa.text("UPDATE audit_events SET prev_hash = :prev_hash, hash = :hash WHERE id = :id"), updates)


def upgrade() -> None:
    op.add_column(
        "audit_events",
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
    )
    op.add_column(
        "audit_events",
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
    )
    op.add_column("audit_events", sa.Column("prev_hash", sa.String(length=64), nullable=True))
    op.add_column("audit_events", sa.Column("hash", sa.String(length=64), nullable=True))
    _chain_existing_rows()
    op.alter_column("audit_events", "prev_hash", nullable=False)
    op.alter_column("audit_events", "hash", nullable=False)
    op.create_check_constraint("hash_is_sha256_hex", "audit_events", "hash ~ '^[0-9a-f]{64}$'")
    op.create_check_constraint("prev_hash_is_sha256_hex", "audit_events", "prev_hash ~ '^[0-9a-f]{64}$'")
    op.execute(APPEND_ONLY_FUNCTION)
    for statement in APPEND_ONLY_TRIGGERS:
        op.execute(statement)

    op.create_table(
        "workflow_histories",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Text(), nullable=False),
        sa.Column("workflow_id", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("history", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("journal_head_seq", sa.Integer(), nullable=True),
        sa.Column("journal_head_hash", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_workflow_histories_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_histories")),
        sa.UniqueConstraint("workflow_id", "run_id", name=op.f("uq_workflow_histories_workflow_id_run_id")),
    )
    op.create_index(op.f("ix_workflow_histories_case_id"), "workflow_histories", ["case_id"], unique=False)

    op.execute(CREATE_ROLE)
    op.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}")
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit_events FROM {APP_ROLE}")
    op.execute(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {APP_ROLE}")
    # Tables and sequences later migrations create (run by the same owner) get the same rights.
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP_ROLE}"
    )
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {APP_ROLE}")


def downgrade() -> None:
    # The role stays: roles are cluster-wide and other databases of the cluster may use it.
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT ON SEQUENCES FROM {APP_ROLE}")
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {APP_ROLE}"
    )
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {APP_ROLE}")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {APP_ROLE}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {APP_ROLE}")
    op.drop_index(op.f("ix_workflow_histories_case_id"), table_name="workflow_histories")
    op.drop_table("workflow_histories")
    op.execute("DROP TRIGGER audit_events_refuse_truncate ON audit_events")
    op.execute("DROP TRIGGER audit_events_refuse_update_delete ON audit_events")
    op.execute("DROP FUNCTION audit_events_append_only()")
    op.drop_constraint(op.f("ck_audit_events_prev_hash_is_sha256_hex"), "audit_events", type_="check")
    op.drop_constraint(op.f("ck_audit_events_hash_is_sha256_hex"), "audit_events", type_="check")
    op.drop_column("audit_events", "hash")
    op.drop_column("audit_events", "prev_hash")
    op.drop_column("audit_events", "after")
    op.drop_column("audit_events", "before")
