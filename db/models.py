"""The read model in PostgreSQL: units, officials (and their directory's journal), rounds, cases, scores, tasks (the
inbox) and the audit journal.

Temporal owns the process state; these tables are written only by activities (and the seed), read by the API.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    and_,
    func,
    or_,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSONB, datetime: DateTime(timezone=True)}


class ProvinceRow(Base):
    __tablename__ = "provinces"
    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    is_central_city: Mapped[bool] = mapped_column(Boolean, default=False)


class UnitRow(Base):
    __tablename__ = "units"
    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    division_type: Mapped[str] = mapped_column(Text)
    province_code: Mapped[str] = mapped_column(ForeignKey("provinces.code"), index=True)
    locality_type: Mapped[str] = mapped_column(Text)


class OfficialRow(Base):
    """A person of the officials' directory (services/officials; migration 0011). Never deleted: one who leaves is
    made inactive. Emails are unique whatever their case; an OIDC issuer and subject go together and name one
    official."""

    __tablename__ = "officials"
    __table_args__ = (
        UniqueConstraint("oidc_issuer", "oidc_subject"),
        CheckConstraint("(oidc_issuer IS NULL) = (oidc_subject IS NULL)", name="oidc_pair"),
        CheckConstraint("locale IN ('vi', 'en')", name="locale"),
        Index(
            "ix_officials_email_lower",
            func.lower(text("email")),
            unique=True,
            postgresql_where=text("email IS NOT NULL"),
        ),
    )
    id: Mapped[str] = mapped_column(Text, primary_key=True)
    full_name: Mapped[str] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    position_title: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)  # national form: 10 digits starting 0
    locale: Mapped[str] = mapped_column(Text, server_default="vi")
    oidc_issuer: Mapped[str | None] = mapped_column(Text)
    oidc_subject: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    created_by: Mapped[str | None] = mapped_column(Text)  # an official id; NULL: seeded
    updated_by: Mapped[str | None] = mapped_column(Text)


class RoleAssignmentRow(Base):
    """A role held within a scope: one unit (unit_code set) or a whole province (unit_code NULL), from `valid_from`
    to `valid_until` (days, inclusive; NULL: open-ended)."""

    __tablename__ = "role_assignments"
    __table_args__ = (
        UniqueConstraint("official_id", "role", "province_code", "unit_code", postgresql_nulls_not_distinct=True),
        # who holds a role over a unit or its province: the board's open tasks without a holder (migration 0016)
        Index("ix_role_assignments_province_role_unit", "province_code", "role", "unit_code"),
        CheckConstraint("valid_from IS NULL OR valid_until IS NULL OR valid_from <= valid_until", name="validity"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    official_id: Mapped[str] = mapped_column(ForeignKey("officials.id"), index=True)
    role: Mapped[str] = mapped_column(Text)
    province_code: Mapped[str] = mapped_column(ForeignKey("provinces.code"), index=True)
    unit_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)

    @classmethod
    def in_force_on(cls, day: date) -> ColumnElement[bool]:
        """The assignment holds on `day` (a day in Vietnam): started, and not ended before it."""
        return and_(
            or_(cls.valid_from.is_(None), cls.valid_from <= day),
            or_(cls.valid_until.is_(None), cls.valid_until >= day),
        )

    def holds_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


class AbsenceRow(Base):
    """A period of leave (days, inclusive, in Vietnam) of an official in one province, with the deputy who holds the
    same roles over the same scopes meanwhile (services/officials/absences.py). Ended early by moving `ends_on`;
    one not yet begun is cancelled (`cancelled_at`); never deleted."""

    __tablename__ = "absences"
    __table_args__ = (
        CheckConstraint("starts_on <= ends_on", name="days"),
        CheckConstraint("official_id <> deputy_id", name="deputy_is_another"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    official_id: Mapped[str] = mapped_column(ForeignKey("officials.id"), index=True)
    deputy_id: Mapped[str] = mapped_column(ForeignKey("officials.id"), index=True)
    province_code: Mapped[str] = mapped_column(ForeignKey("provinces.code"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None]
    cancelled_by: Mapped[str | None] = mapped_column(Text)

    @classmethod
    def in_force_on(cls, day: date) -> ColumnElement[bool]:
        return and_(cls.cancelled_at.is_(None), cls.starts_on <= day, cls.ends_on >= day)


class ProvinceTargetRow(Base):
    """A province's target for a plan period (domain/targets.py): the share of its units to recognise, from
    `first_year` to `last_year` inclusive, with the plan that set it. Set by its administrators, every change in the
    province's directory journal (`target_set`)."""

    __tablename__ = "province_targets"
    __table_args__ = (
        UniqueConstraint("province_code", "first_year"),
        CheckConstraint("share > 0 AND share <= 1", name="share"),
        CheckConstraint("first_year <= last_year", name="years"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    province_code: Mapped[str] = mapped_column(ForeignKey("provinces.code"), index=True)
    first_year: Mapped[int] = mapped_column(Integer)
    last_year: Mapped[int] = mapped_column(Integer)
    share: Mapped[float]
    plan: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str | None] = mapped_column(Text)


class DirectoryEventRow(Base):
    """One change to the officials' directory of a province (services/officials/journal.py): (province_code, seq)
    numbers a province's chain, each row hashed over its content and its predecessor's hash (format
    `xptt-directory-v1`). Append-only: PostgreSQL refuses UPDATE, DELETE and TRUNCATE (migration 0011)."""

    __tablename__ = "directory_journal"
    __table_args__ = (
        UniqueConstraint("province_code", "seq"),
        CheckConstraint("hash ~ '^[0-9a-f]{64}$'", name="hash_is_sha256_hex"),
        CheckConstraint("prev_hash ~ '^[0-9a-f]{64}$'", name="prev_hash_is_sha256_hex"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    province_code: Mapped[str] = mapped_column(ForeignKey("provinces.code"))
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[str | None] = mapped_column(Text)
    official_id: Mapped[str | None] = mapped_column(Text, index=True)
    assignment_id: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    before: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    after: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    reason: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class RoundRow(Base):
    __tablename__ = "rounds"
    id: Mapped[str] = mapped_column(Text, primary_key=True)  # "<rule_set_id>:<year>"
    rule_set_id: Mapped[str] = mapped_column(Text)
    profile_id: Mapped[str] = mapped_column(Text)
    year: Mapped[int] = mapped_column(Integer)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class CaseRow(Base):
    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("unit_code", "round_id"),)
    id: Mapped[str] = mapped_column(Text, primary_key=True)  # = the workflow id
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"))
    province_code: Mapped[str] = mapped_column(String(2), index=True)
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.id"), index=True)
    rule_set_id: Mapped[str] = mapped_column(Text)
    profile_id: Mapped[str] = mapped_column(Text)
    locality_type: Mapped[str] = mapped_column(Text)
    stage: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)  # open | closed
    outcome: Mapped[str | None] = mapped_column(Text)
    verdict: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    run_id: Mapped[str | None] = mapped_column(Text)
    last_seq: Mapped[int] = mapped_column(Integer)
    on_hold: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    problem: Mapped[str | None] = mapped_column(Text)  # stuck | on_hold | ... (what the admins' board shows)
    waiting_until: Mapped[datetime | None]  # striving: the current stage's task opens then (0010)
    opened_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class CriterionScoreRow(Base):
    __tablename__ = "criterion_scores"
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(Text, primary_key=True)  # self | council
    criterion: Mapped[int] = mapped_column(Integer, primary_key=True)
    points: Mapped[int] = mapped_column(Integer)
    source: Mapped[str | None] = mapped_column(Text)


class TaskRow(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_inbox", "status", "role", "province_code", "due_at"),
        # the province-wide views (mine=false) in due-time order; migration 0007
        Index("ix_tasks_province_status_due", "province_code", "status", "due_at", "id"),
        Index("ix_tasks_province_due", "province_code", "due_at", "id"),
    )
    id: Mapped[str] = mapped_column(Text, primary_key=True)  # "<case id>/<n>-<stage>"
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    stage: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    unit_code: Mapped[str] = mapped_column(String(5), index=True)
    province_code: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(Text)  # open | completed | cancelled
    assignee_id: Mapped[str | None] = mapped_column(Text)  # an official id; see migration 0006
    escalation_level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    escalated_to: Mapped[str | None] = mapped_column(Text)  # the role of the rung the task has climbed to
    stuck: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    created_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(Text)
    completion: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    update_id: Mapped[str | None] = mapped_column(Text)


class AuditEventRow(Base):
    """One row per decision, transition or action on a case; (case_id, seq) is the business key that makes recording
    idempotent. Append-only: PostgreSQL refuses UPDATE, DELETE and TRUNCATE (migration 0004)."""

    __tablename__ = "audit_events"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[str | None] = mapped_column(Text)
    actor_role: Mapped[str | None] = mapped_column(Text)
    unit_code: Mapped[str] = mapped_column(String(5))
    from_stage: Mapped[str | None] = mapped_column(Text)
    to_stage: Mapped[str] = mapped_column(Text)
    task_id: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    reason: Mapped[str | None] = mapped_column(Text)
    rule_set_id: Mapped[str] = mapped_column(Text)
    workflow_id: Mapped[str] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(Text)
    update_id: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime]
    # What an action changed (e.g. a due date, an assignee); a stage transition's are from_stage and to_stage.
    before: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    after: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    # The hash chain (audit/chain.py): the hash of the case's previous row (genesis for seq 1) and this row's own.
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class RoundReportRow(Base):
    """The report of a province's round, written when the round closes (and refreshed if it is closed again)."""

    __tablename__ = "round_reports"
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.id"), primary_key=True)
    province_code: Mapped[str] = mapped_column(String(2), primary_key=True)
    report: Mapped[dict[str, Any]] = mapped_column(JSONB)
    closed_at: Mapped[datetime]


class WebSessionRow(Base):
    """A sign-in on the pages (migration 0008). The cookie holds a random id; only its SHA-256 is kept here.
    `method`: token | oidc. Revoking the token it was opened with (`token_jti`) ends it too; sign-out sets
    `revoked_at`."""

    __tablename__ = "web_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    official_id: Mapped[str] = mapped_column(ForeignKey("officials.id"), index=True)
    method: Mapped[str] = mapped_column(Text)
    token_jti: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None]


class RevokedTokenRow(Base):
    """A bearer token refused before its expiry, by its jti (`xptt token revoke`; migration 0008)."""

    __tablename__ = "revoked_tokens"
    jti: Mapped[str] = mapped_column(Text, primary_key=True)
    reason: Mapped[str | None] = mapped_column(Text)
    revoked_at: Mapped[datetime] = mapped_column(server_default=func.now())


class IdempotencyKeyRow(Base):
    """The body first sent with an Idempotency-Key, per official and route (migration 0009): `fingerprint` is the
    SHA-256 of its canonical JSON. A retry with the same key must send the same body (services/idempotency.py)."""

    __tablename__ = "idempotency_keys"
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    official_id: Mapped[str] = mapped_column(Text, primary_key=True)
    route: Mapped[str] = mapped_column(Text, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), index=True)
