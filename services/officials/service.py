"""The officials' directory of a province: who its officials are, how to reach them, which roles they hold over
which units and when; created and changed by the province's administrators only, every change journalled.

- Reading (list, one official, the journal and its verification): administrators and auditors of the province
  (`require_oversight`).
- Writing (create, change, deactivate, give or end a role): administrators of the province (`require_admin`). An
  official is written only by administrators of every province where they hold or held a role; one outside the
  caller's provinces is answered as absent (404).
- Officials are never deleted: one who leaves is deactivated, and the open tasks assigned to them go to another
  holder of the role, or stay open for the board (services/officials/coverage.py). Assignments are never removed:
  they end.
- A refusal (services/errors.Refusal, naming the field) changes nothing; every write appends the directory journal
  in the same transaction (services/officials/journal.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from db.models import OfficialRow, RoleAssignmentRow
from domain.calendar import local_date
from services.access import Principal, admin_provinces, overseen_provinces, require_admin, require_oversight
from services.errors import Refusal
from services.officials import coverage, queries
from services.officials.coverage import DeactivationOut
from services.officials.journal import DirectoryVerification, verify_directory
from services.officials.rules import (
    AssignmentNames,
    AssignmentValues,
    OfficialValues,
    check_assignment,
    check_role,
    clean_official,
    refuse,
    role_label,
)
from services.officials.schemas import (
    AssignmentOut,
    EndRoleRequest,
    JournalEntryOut,
    NewOfficialRequest,
    OfficialOut,
    OfficialPatch,
    RoleIn,
    RoleRequest,
)
from services.officials.writes import DirectoryWriter, details_changed, official_snapshot


# -- reading ---------------------------------------------------------------------------------------------------------
async def _out(
    session: AsyncSession, rows: list[OfficialRow], *, now: datetime, province: str | None = None
) -> list[OfficialOut]:
    """The officials with their assignments (in `province` only, when given)."""
    held = await queries.assignments(session, [r.id for r in rows])
    names = await queries.unit_names(session, {a.unit_code for rs in held.values() for a in rs if a.unit_code})
    today = local_date(now)

    def roles(official_id: str) -> list[AssignmentOut]:
        return [
            AssignmentOut(
                id=a.id,
                role=a.role,
                role_name=role_label(a.role),
                province_code=a.province_code,
                unit_code=a.unit_code,
                unit_name=names.get(a.unit_code) if a.unit_code else None,
                valid_from=a.valid_from,
                valid_until=a.valid_until,
                current=a.holds_on(today),
            )
            for a in held.get(official_id, [])
            if province is None or a.province_code == province
        ]

    return [
        OfficialOut.model_validate(
            {c: getattr(r, c) for c in OfficialOut.model_fields if c != "roles"} | {"roles": roles(r.id)}
        )
        for r in rows
    ]


async def list_officials(
    session: AsyncSession, principal: Principal, province: str, *, now: datetime, include_inactive: bool = False
) -> list[OfficialOut]:
    """The officials who hold or held a role in the province, with their roles there, in code order."""
    require_oversight(principal, province)
    found = await queries.officials(session, await queries.province_officials(session, province))
    rows = [found[i] for i in sorted(found) if include_inactive or found[i].active]
    return await _out(session, rows, now=now, province=province)


async def visible_official(
    session: AsyncSession, principal: Principal, official_id: str, provinces: set[str]
) -> OfficialRow:
    """The official, when the caller administers or oversees a province of theirs; else answered as absent."""
    row = await session.get(OfficialRow, official_id, populate_existing=True)
    if row is None or not provinces & (admin_provinces(principal) | overseen_provinces(principal)):
        raise Refusal(404, "official_not_found", f"no official {official_id} in your provinces")
    return row


async def get_official(session: AsyncSession, principal: Principal, official_id: str, *, now: datetime) -> OfficialOut:
    require_oversight(principal)
    served = await served_provinces(session, official_id)
    row = await visible_official(session, principal, official_id, served)
    return (await _out(session, [row], now=now))[0]


async def journal(
    session: AsyncSession, principal: Principal, province: str, *, after_seq: int = 0, limit: int = 200
) -> list[JournalEntryOut]:
    require_oversight(principal, province)
    rows = await queries.journal_entries(session, province, after_seq=after_seq, limit=limit)
    return [JournalEntryOut.model_validate(r, from_attributes=True) for r in rows]


async def verify(session: AsyncSession, principal: Principal, province: str) -> DirectoryVerification:
    require_oversight(principal, province)
    return await verify_directory(session, province)


# -- writing ---------------------------------------------------------------------------------------------------------
@asynccontextmanager
async def writing(session: AsyncSession) -> AsyncIterator[None]:
    """Commit what the block wrote, or nothing at all. A uniqueness lost to a concurrent writer is a conflict."""
    try:
        yield
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Refusal(
            409, "directory_conflict", "the directory changed meanwhile (an email, sign-in or role taken); try again"
        ) from None
    except BaseException:
        await session.rollback()
        raise


async def served_provinces(session: AsyncSession, official_id: str) -> set[str]:
    rows = await session.scalars(
        select(RoleAssignmentRow.province_code).where(RoleAssignmentRow.official_id == official_id).distinct()
    )
    return set(rows)


async def writable(
    session: AsyncSession,
    principal: Principal,
    official_id: str,
    *,
    writer: DirectoryWriter,
    also: Collection[str] = (),
) -> tuple[OfficialRow, list[RoleAssignmentRow], set[str]]:
    """The official the caller may write, with their assignments and the provinces they serve, read under the
    directory locks of those provinces (and of `also`)."""
    require_admin(principal)
    served = await served_provinces(session, official_id)
    await visible_official(session, principal, official_id, served)  # answered before anything is locked
    for province in sorted(served):
        require_admin(principal, province)
    await writer.lock(served | set(also))
    row = await session.get(OfficialRow, official_id, populate_existing=True)
    assert row is not None  # officials are never deleted
    held = (await queries.assignments(session, [official_id])).get(official_id, [])
    return row, held, served


async def check_unique(session: AsyncSession, official_id: str, values: OfficialValues) -> None:
    """No other official has the email or the OIDC issuer and subject."""
    if values.email is not None:
        owner = (await queries.email_owners(session, [values.email])).get(values.email.lower())
        if owner not in (None, official_id):
            raise refuse("duplicate_email", "email", f"{values.email} is the email of another official", status=409)
    if values.oidc_issuer is not None and values.oidc_subject is not None:
        pair = (values.oidc_issuer, values.oidc_subject)
        owner = (await queries.oidc_owners(session, [pair])).get(pair)
        if owner not in (None, official_id):
            raise refuse("oidc_taken", "oidc_subject", "another official signs in as this subject", status=409)


async def _assignment(session: AsyncSession, req: RoleIn, province: str, prefix: str = "") -> AssignmentValues:
    names = AssignmentNames(*(f"{prefix}{n}" for n in ("role", "unit_code", "valid_from", "valid_until")))
    role = check_role(req.role, names.role)
    units = await queries.unit_provinces(session, [req.unit_code] if req.unit_code else [])
    return check_assignment(
        role,
        req.unit_code,
        req.valid_from,
        req.valid_until,
        province_code=province,
        unit_province=units.get(req.unit_code or ""),
        names=names,
    )


async def create_official(
    session: AsyncSession, principal: Principal, req: NewOfficialRequest, *, now: datetime
) -> OfficialOut:
    """A new official of the province with their roles there (201); the code, email and sign-in must be free."""
    require_admin(principal, req.province)
    values = clean_official(req.model_dump())
    wanted = [await _assignment(session, r, req.province, f"roles.{i}.") for i, r in enumerate(req.roles)]
    if len({a.key() for a in wanted}) < len(wanted):
        raise refuse("duplicate_role", "roles", "the same role over the same scope is given twice")
    writer = DirectoryWriter(session, actor_id=principal.official_id, now=now)
    async with writing(session):
        await writer.lock([req.province])
        if await session.get(OfficialRow, req.id) is not None:
            raise refuse("official_exists", "id", f"the code {req.id} is taken by another official", status=409)
        await check_unique(session, req.id, values)
        row = writer.create_official(req.id, values, province_code=req.province)
        for a in wanted:
            writer.assign(req.id, a, reason=req.reason)
        await writer.finish()
    return (await _out(session, [row], now=now))[0]


async def update_official(
    session: AsyncSession, principal: Principal, official_id: str, patch: OfficialPatch, *, now: datetime
) -> OfficialOut:
    """Change the details sent; nothing journalled when nothing differs."""
    writer = DirectoryWriter(session, actor_id=principal.official_id, now=now)
    async with writing(session):
        row, _, served = await writable(session, principal, official_id, writer=writer)
        values = clean_official({**official_snapshot(row), **patch.changes()})
        changes = details_changed(row, values)
        if changes:
            await check_unique(session, official_id, values)
            writer.change_official(row, changes, provinces=served, reason=patch.reason)
            await writer.finish()
    return (await _out(session, [row], now=now))[0]


async def deactivate_official(
    session: AsyncSession,
    principal: Principal,
    official_id: str,
    reason: str,
    *,
    now: datetime,
    temporal: Client | None = None,
) -> DeactivationOut:
    """The official no longer signs in or acts; kept, with their assignments, for the journals that name them. Once
    that is committed, each open task assigned to them goes to another active holder of its role over its unit
    through the case's `reassign` Update (signed for the administrator; with `temporal` only), or stays open: on the
    board as no one holds this role when no one else does."""
    writer = DirectoryWriter(session, actor_id=principal.official_id, now=now)
    async with writing(session):
        row, _, served = await writable(session, principal, official_id, writer=writer)
        if official_id == principal.official_id:
            raise Refusal(409, "own_account", "you cannot deactivate yourself: ask another administrator")
        if not row.active:
            raise Refusal(409, "official_inactive", f"official {official_id} is already inactive")
        writer.change_official(row, {"active": False}, provinces=served, action="official_deactivated", reason=reason)
        await writer.finish()
    out = (await _out(session, [row], now=now))[0]
    tasks = await coverage.assigned_tasks(session, official_id)
    done, left = await coverage.hand_over(session, temporal, principal, official_id, tasks, reason=reason, now=now)
    return DeactivationOut(**dict(out), reassigned=done, left_open=left)


async def add_role(
    session: AsyncSession, principal: Principal, official_id: str, req: RoleRequest, *, now: datetime
) -> OfficialOut:
    """Give an active official a role; a role they held and that has ended is given again with the new days. The
    role is checked once the caller is known to write the official (else 403, or 404 for one outside their
    provinces), so that a refused caller learns nothing from the role's checks."""
    require_admin(principal, req.province)
    writer = DirectoryWriter(session, actor_id=principal.official_id, now=now)
    async with writing(session):
        row, held, _ = await writable(session, principal, official_id, writer=writer, also=[req.province])
        wanted = await _assignment(session, req, req.province)
        if not row.active:
            raise Refusal(409, "official_inactive", f"official {official_id} is inactive")
        same = next((a for a in held if (a.role, a.province_code, a.unit_code) == wanted.key()), None)
        if same is None:
            writer.assign(official_id, wanted, reason=req.reason)
        elif same.valid_until is None or same.valid_until >= local_date(now):
            raise Refusal(409, "role_already_held", f"official {official_id} already holds this role (#{same.id})")
        else:
            writer.change_assignment(
                same, wanted.valid_from, wanted.valid_until, action="role_assigned", reason=req.reason
            )
        await writer.finish()
    return (await _out(session, [row], now=now))[0]


async def end_role(
    session: AsyncSession,
    principal: Principal,
    official_id: str,
    assignment_id: int,
    req: EndRoleRequest,
    *,
    now: datetime,
) -> OfficialOut:
    """The assignment ends on `valid_until` (default today in Vietnam), inclusive; it is kept."""
    writer = DirectoryWriter(session, actor_id=principal.official_id, now=now)
    async with writing(session):
        row, held, _ = await writable(session, principal, official_id, writer=writer)
        found = next((a for a in held if a.id == assignment_id), None)
        if found is None:
            raise Refusal(404, "assignment_not_found", f"official {official_id} has no assignment {assignment_id}")
        require_admin(principal, found.province_code)
        until = req.valid_until or local_date(now)
        if found.valid_until is not None and found.valid_until <= until:
            raise Refusal(409, "role_already_ended", f"assignment {assignment_id} ends on {found.valid_until:%d/%m/%Y}")
        if found.valid_from is not None and until < found.valid_from:
            raise refuse("invalid_validity", "valid_until", f"{until} is before the start {found.valid_from}")
        if official_id == principal.official_id and found.role == "admin":
            raise Refusal(409, "own_account", "you cannot end your own administrator role: ask another administrator")
        writer.change_assignment(found, found.valid_from, until, action="role_ended", reason=req.reason)
        await writer.finish()
    return (await _out(session, [row], now=now))[0]
