"""Who may do what: the one place access is decided, for the API, the pages and the CLI alike. Every service asks
here; nothing else checks roles.

Roles come from the database as scopes (`RoleScope`: a role over one unit, or over a whole province):
- commune roles (commune officer, council chair, commune chairman) act only on their unit's tasks of their role;
- the appraising office and the deciding authority (appraiser, chairman, provincial chairman) act on the tasks of
  their role in the units under their office (their province, for now);
- an admin administers (stuck board, bulk actions, rounds) within their province;
- an auditor reads (cases, tasks, timelines, the board, round progress) within their scope and never writes;
- the ministry (a national role, `national_roles`, outside any province) reads every province's report to it and the
  national totals, and nothing else: no case, task or draft.
Anyone whose scope covers a unit reads its cases and tasks. Whether a case or task exists in a unit outside the
official's scope is itself private: such requests answer 404, not 403.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, TypeVar, cast

from sqlalchemy import Date, Text, and_, bindparam, exists, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from contracts import Acting, Actor
from db.models import OfficialRow, RevokedTokenRow, RoleAssignmentRow
from db.models_ministry import NationalRoleRow
from db.readonly import ReadOnly, fetch
from domain.access import RoleScope, may_act, may_read
from domain.actor_assertion import KeyRing, KeyRingError, parse_key_ring, payload_digest, sign
from domain.stages import Role
from infra.clock import today_vn
from infra.settings import get_settings
from services.errors import Refusal

WRITE_ROLES = frozenset(Role) - {Role.AUDITOR}
MINISTRY = "ministry"  # the one national role (national_roles.role)
AUDIT_ROLES = frozenset({Role.AUDITOR, Role.ADMIN})


@dataclass(frozen=True)
class Principal:
    """The official behind a request, with their role assignments from the database."""

    official_id: str
    full_name: str
    scopes: tuple[RoleScope, ...]
    ministry: bool = False  # holds the national role of the ministry

    def roles(self) -> set[Role]:
        return {s.role for s in self.scopes}


# The official and their assignments in force on a day (none: one row of NULLs), in the order they were granted, and
# whether a token's jti is on the revoked list (NULL: never): one round trip, built once and bound at each request.
_PRINCIPAL = (
    select(
        OfficialRow.id,
        OfficialRow.full_name,
        OfficialRow.active,
        RoleAssignmentRow.role,
        RoleAssignmentRow.province_code,
        RoleAssignmentRow.unit_code,
        exists()
        .where(NationalRoleRow.official_id == OfficialRow.id, NationalRoleRow.role == MINISTRY)
        .label("ministry"),
        exists().where(RevokedTokenRow.jti == bindparam("jti", type_=Text)).label("revoked"),
    )
    .outerjoin(
        RoleAssignmentRow,
        (RoleAssignmentRow.official_id == OfficialRow.id)
        & RoleAssignmentRow.in_force_on(cast(date, bindparam("day", type_=Date))),
    )
    .where(OfficialRow.id == bindparam("official_id", type_=Text))
    .order_by(RoleAssignmentRow.id)
)
# A jti on the revoked list (`xptt token revoke`): a row, or none.
REVOKED = select(RevokedTokenRow.jti).where(RevokedTokenRow.jti == bindparam("jti", type_=Text))


async def principal_of(session: AsyncSession, official_id: str) -> Principal | None:
    """The active official with the role assignments that hold today in Vietnam (None: unknown or inactive); an
    assignment not yet begun or already ended (services/officials) gives no role."""
    principal, _ = await principal_and_revocation(session, official_id, jti=None)
    return principal


async def principal_and_revocation(
    db: ReadOnly | AsyncSession, official_id: str, *, jti: str | None
) -> tuple[Principal | None, bool]:
    """`principal_of` the official a bearer token names, and whether the token's jti is on the revoked list (None:
    it has none), read together: one round trip for an official who exists."""
    rows = await fetch(db, _PRINCIPAL, {"official_id": official_id, "day": today_vn(), "jti": jti})
    if not rows:
        return None, jti is not None and bool(await fetch(db, REVOKED, {"jti": jti}))
    first = rows[0]
    if not first["active"]:
        return None, first["revoked"]
    scopes = tuple(
        RoleScope(role=Role(r["role"]), province_code=r["province_code"], unit_code=r["unit_code"])
        for r in rows
        if r["role"] is not None and r["province_code"] is not None
    )
    principal = Principal(first["id"], first["full_name"], scopes, ministry=first["ministry"])
    return principal, first["revoked"]


# -- reading ---------------------------------------------------------------------------------------------------------
def can_read(p: Principal, unit_code: str, province_code: str) -> bool:
    return may_read(p.scopes, unit_code, province_code)


def require_read(p: Principal, unit_code: str, province_code: str, *, what: str, code: str) -> None:
    """A case or task outside the official's scope is answered as absent."""
    if not can_read(p, unit_code, province_code):
        raise Refusal(404, code, f"no {what} in your units")


def readable(
    p: Principal, unit: InstrumentedAttribute[str], province: InstrumentedAttribute[str]
) -> ColumnElement[bool]:
    """The rows of units the official's scopes cover, as one SQL condition."""
    clauses = [_covers(s, unit, province) for s in p.scopes]
    return or_(*clauses) if clauses else false()


def _covers(
    s: RoleScope, unit: InstrumentedAttribute[str], province: InstrumentedAttribute[str]
) -> ColumnElement[bool]:
    if s.unit_code is None:
        return province == s.province_code
    return and_(province == s.province_code, unit == s.unit_code)


def actionable(
    p: Principal,
    unit: InstrumentedAttribute[str],
    province: InstrumentedAttribute[str],
    role: InstrumentedAttribute[str] | InstrumentedAttribute[str | None],
) -> ColumnElement[bool]:
    """Tasks the official may complete: their role, in a unit their scope of that role covers. Given the column of
    the role a task escalated to, the tasks whose escalation reached the official."""
    clauses = [and_(_covers(s, unit, province), role == s.role.value) for s in p.scopes if s.role in WRITE_ROLES]
    return or_(*clauses) if clauses else false()


# -- acting on a task ------------------------------------------------------------------------------------------------
def require_complete(p: Principal, role: str, unit_code: str, province_code: str, *, task_id: str) -> None:
    """Completing a task takes the task's role over its unit; auditors never write."""
    if Role.AUDITOR in p.roles() and not (p.roles() & WRITE_ROLES):
        raise Refusal(403, "forbidden", "auditors read and never write: completing a task is refused")
    if Role(role) not in WRITE_ROLES or not may_act(p.scopes, Role(role), unit_code, province_code):
        raise Refusal(403, "forbidden", f"completing task {task_id} takes role {role} for unit {unit_code}")


# -- administering ---------------------------------------------------------------------------------------------------
def admin_provinces(p: Principal) -> set[str]:
    """Provinces the official administers as a whole."""
    return {s.province_code for s in p.scopes if s.role == Role.ADMIN and s.unit_code is None}


def require_admin(p: Principal, province_code: str | None = None) -> set[str]:
    """The provinces the request may administer: one named province, or every province of the admin."""
    return _within(admin_provinces(p), province_code, role="the admin role", verb="administer")


def overseen_provinces(p: Principal) -> set[str]:
    """Provinces whose board and round progress the official may read: admins and auditors of the province."""
    return {s.province_code for s in p.scopes if s.role in AUDIT_ROLES and s.unit_code is None}


def require_oversight(p: Principal, province_code: str | None = None) -> set[str]:
    return _within(overseen_provinces(p), province_code, role="the admin or auditor role", verb="oversee")


def _within(provinces: set[str], province_code: str | None, *, role: str, verb: str) -> set[str]:
    """One named province of `provinces`, or all of them; refused when there are none or it is not among them."""
    if not provinces:
        raise Refusal(403, "forbidden", f"this takes {role} over a province")
    if province_code is None:
        return provinces
    if province_code not in provinces:
        raise Refusal(403, "forbidden", f"you do not {verb} province {province_code}")
    return {province_code}


def require_ministry(p: Principal) -> None:
    """The national report across provinces is the ministry's."""
    if not p.ministry:
        raise Refusal(403, "forbidden", "the national report takes the ministry's national role")


def require_report_reader(p: Principal, province_code: str) -> None:
    """A province's report to the ministry: its administrators and auditors, or the ministry."""
    if not p.ministry:
        require_oversight(p, province_code)


def require_audit(p: Principal, unit_code: str, province_code: str, *, case_id: str) -> None:
    """The audit of a case (verify, replay, archive, export) is open to auditors and administrators of its unit; a
    case outside the official's scope is answered as absent."""
    if not may_read(p.scopes, unit_code, province_code):
        raise Refusal(404, "case_not_found", f"no case {case_id} in your units")
    auditing = [s for s in p.scopes if s.role in AUDIT_ROLES]
    if not may_read(auditing, unit_code, province_code):
        raise Refusal(403, "forbidden", "the audit of a case is open to auditors and administrators of its unit")


# -- vouching for the actor of an Update -------------------------------------------------------------------------------
# Every Update the services send a case carries an assertion signed here (domain/actor_assertion.py): the case's
# workflow takes the official, their scopes and the input only with it. This is the one place that signs.
A = TypeVar("A", bound=Acting)
_keys: KeyRing | None = None


def use_actor_keys(ring: KeyRing | None) -> None:
    """Sign with `ring` from now on, whatever the settings say (tests, tools); None: with XPTT_ACTOR_KEYS again."""
    global _keys
    _keys = ring


@lru_cache(maxsize=4)
def _ring_of(spec: str) -> KeyRing:
    return parse_key_ring(spec)


def signing_keys() -> KeyRing:
    """The ring set by `use_actor_keys`, else XPTT_ACTOR_KEYS; a refusal when neither holds a key."""
    if _keys is not None:
        return _keys
    spec = get_settings().actor_keys
    if not spec:
        raise Refusal(503, "actor_keys_missing", "XPTT_ACTOR_KEYS is not set: no action can be sent to a case")
    try:
        return _ring_of(spec)
    except KeyRingError as exc:
        raise Refusal(503, "actor_keys_invalid", f"XPTT_ACTOR_KEYS: {exc}") from None


def actor_for(
    who: Principal | Actor,
    case_id: str,
    target: str,
    payload: Mapping[str, Any],
    *,
    update_id: str,
    issued_at: datetime | None = None,
) -> Actor:
    """The official (a principal, or an actor as a bulk run carries it) as the actor of one Update: their id and
    scopes with an assertion for the case, the target (the Update and its task: `target_of`), the payload (the
    Update's input without its actor) and the id the Update is sent with (`execute_update(..., id=update_id)`; a
    nudge: its own id), issued now."""
    scopes = list(who.scopes)
    assertion = sign(
        signing_keys(),
        official_id=who.official_id,
        scopes=scopes,
        case_id=case_id,
        target=target,
        payload_digest=payload_digest(payload),
        update_id=update_id,
        issued_at=issued_at or datetime.now(UTC),
    )
    return Actor(official_id=who.official_id, scopes=scopes, assertion=assertion)


def signed(
    who: Principal | Actor,
    case_id: str,
    model: type[A],
    *,
    update_id: str,
    issued_at: datetime | None = None,
    **fields: Any,
) -> A:
    """The Update input `model(**fields)` with `who` as its actor, vouched for this case, the input's target, these
    very fields and the update id it is sent with (the case refuses it under any other id)."""
    unsigned = model(**fields, actor=Actor(official_id=who.official_id, scopes=list(who.scopes)))
    actor = actor_for(
        who, case_id, unsigned.target(), unsigned.signed_content(), update_id=update_id, issued_at=issued_at
    )
    return unsigned.model_copy(update={"actor": actor})
