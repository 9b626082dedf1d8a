"""Who holds the roles a province's procedure needs today, and the gaps.

For every unit of the province, the roles its case needs at its current stage: the role of each open task; for a unit
with no open task (no open case, or a case waiting for its stage to open), the commune roles a round needs
(`ROUND_ROLES`). A role is held over a unit by an active official whose assignment holds today (days in Vietnam)
over that unit or the whole province. A needed role that no one holds is a gap: `xptt officials coverage` exits 1,
the board shows the gaps (services/board), and an open task whose role no one holds is on the board as `no_holder`.

When an official is deactivated, the open tasks assigned to them go to another holder of the role over the unit
(`hand_over`, through the case's `reassign` Update signed for the administrator), or stay open for the board.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from pydantic import BaseModel, Field, computed_field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from contracts import Actor
from db.models import CaseRow, OfficialRow, TaskRow, UnitRow
from domain.calendar import local_date
from domain.stages import Role
from services.access import Principal, require_oversight
from services.bulk.schemas import BulkFilter, BulkItem, ReassignRequest
from services.bulk.service import ACTIONS
from services.errors import Refusal
from services.officials import queries
from services.officials.rules import role_label
from services.officials.schemas import OfficialOut
from services.updates import UPDATE_ERRORS, refusal

ROUND_ROLES = (Role.COMMUNE_OFFICER, Role.COUNCIL_CHAIR, Role.COMMUNE_CHAIRMAN)
"""The commune roles a round needs of every unit (registration, self-assessment, the council, the proposal)."""


class Holder(BaseModel):
    id: str
    full_name: str


class CoverageLine(BaseModel):
    unit_code: str
    unit_name: str
    stage: str | None = Field(description="the stage of the unit's open case; None: no open case")
    role: str
    role_name: str
    holders: list[Holder] = Field(description="the active officials who hold the role over the unit today")


class CoverageOut(BaseModel):
    province: str
    day: date = Field(description="the day in Vietnam the assignments are read for")
    units: int
    needed: int = Field(description="unit × role lines needed")
    covered: int
    lines: list[CoverageLine] = Field(description="every needed unit × role, in unit and role order")

    @computed_field(description="the needed unit × role lines no one holds")  # type: ignore[prop-decorator]
    @property
    def gaps(self) -> list[CoverageLine]:
        return [line for line in self.lines if not line.holders]


async def _needs(session: AsyncSession, province: str) -> dict[str, tuple[str | None, set[str]]]:
    """unit code → (the stage of its open case, the roles of its open tasks)."""
    needs: dict[str, tuple[str | None, set[str]]] = {}
    cases = await session.execute(
        select(CaseRow.unit_code, CaseRow.stage)
        .where(CaseRow.province_code == province, CaseRow.status == "open")
        .order_by(CaseRow.opened_at)
    )
    for unit, stage in cases.all():
        needs[unit] = (stage, set())
    tasks = await session.execute(
        select(TaskRow.unit_code, TaskRow.stage, TaskRow.role).where(
            TaskRow.province_code == province, TaskRow.status == "open"
        )
    )
    for unit, stage, role in tasks.all():
        needs.setdefault(unit, (stage, set()))[1].add(role)
    return needs


async def province_coverage(session: AsyncSession, province: str, *, now: datetime) -> CoverageOut:
    """The coverage of the province today (no access check: `coverage` makes it)."""
    day = local_date(now)
    units = (
        await session.execute(
            select(UnitRow.code, UnitRow.name).where(UnitRow.province_code == province).order_by(UnitRow.code)
        )
    ).all()
    needs = await _needs(session, province)
    by_scope: dict[tuple[str, str | None], list[Holder]] = defaultdict(list)
    for role, unit, official_id, name in await queries.holders(session, province, day):
        by_scope[(role, unit)].append(Holder(id=official_id, full_name=name))
    lines: list[CoverageLine] = []
    for code, name in units:
        stage, roles = needs.get(code, (None, set()))
        for role in sorted(roles) or [r.value for r in ROUND_ROLES]:
            held = [*by_scope.get((role, code), []), *by_scope.get((role, None), [])]
            lines.append(
                CoverageLine(
                    unit_code=code, unit_name=name, stage=stage, role=role, role_name=role_label(role), holders=held
                )
            )
    covered = sum(1 for line in lines if line.holders)
    return CoverageOut(province=province, day=day, units=len(units), needed=len(lines), covered=covered, lines=lines)


async def coverage(session: AsyncSession, principal: Principal, province: str, *, now: datetime) -> CoverageOut:
    """Every unit × every role needed in the province, who holds it today, and the gaps: for its administrators and
    auditors."""
    require_oversight(principal, province)
    return await province_coverage(session, province, now=now)


# -- a leaving official's tasks --------------------------------------------------------------------------------------
class HandedOver(BaseModel):
    """An open task that was assigned to an official who was deactivated, and what became of it."""

    task_id: str
    case_id: str
    role: str
    unit_code: str
    to: str | None = Field(description="the official it was reassigned to; None: left open for the board")
    code: str | None = Field(
        None, description="why it was left open: `no_holder` (no one else holds the role), or the case's refusal"
    )


class DeactivationOut(OfficialOut):
    reassigned: list[HandedOver] = Field(default_factory=list, description="tasks given to another holder")
    left_open: list[HandedOver] = Field(
        default_factory=list, description="tasks left open: on the board as no one holds this role"
    )


async def assigned_tasks(session: AsyncSession, official_id: str) -> list[TaskRow]:
    """The open tasks assigned to the official, in id order."""
    rows = await session.scalars(
        select(TaskRow).where(TaskRow.assignee_id == official_id, TaskRow.status == "open").order_by(TaskRow.id)
    )
    return list(rows)


async def successor(session: AsyncSession, task: TaskRow, leaving: str, day: date) -> str | None:
    """Another active official holding the task's role over its unit on `day` (the first by id), or None."""
    found: str | None = await session.scalar(
        select(OfficialRow.id)
        .where(queries.holds(task.role, task.province_code, task.unit_code, day), OfficialRow.id != leaving)
        .order_by(OfficialRow.id)
        .limit(1)
    )
    return found


def _bulk_item(task: TaskRow) -> BulkItem:
    return BulkItem(
        case_id=task.case_id,
        task_id=task.id,
        role=task.role,
        unit_code=task.unit_code,
        unit_name=task.unit_code,
        province_code=task.province_code,
        stage=task.stage,
        on_hold=False,
        due_at=task.due_at,
        escalation_level=task.escalation_level,
    )


async def hand_over(
    session: AsyncSession,
    temporal: Client | None,
    principal: Principal,
    leaving: str,
    tasks: list[TaskRow],
    *,
    reason: str,
    now: datetime,
    to: str | None = None,
    key: str | None = None,
) -> tuple[list[HandedOver], list[HandedOver]]:
    """Reassign each task to `to`, or else to a successor, through its case's `reassign` Update, signed for the
    administrator (as the bulk reassign sends it), with the update id `<key>-<task id>-<case seq>` (default key
    `deactivate-<leaving>`): (reassigned, left open). A task with no successor, or that the case refuses, stays open
    (the board lists it as no one holds this role once no one does). Without Temporal nothing is sent."""
    day = local_date(now)
    plan = [(_bulk_item(task), to or await successor(session, task, leaving, day)) for task in tasks]
    # the case's journal position goes into the update id: the same task handed over again later (given back to the
    # official meanwhile) is a new Update, while a retry of this one is the same
    seqs = dict(
        (
            await session.execute(
                select(CaseRow.id, CaseRow.last_seq).where(CaseRow.id.in_([t.case_id for t in tasks]))
            )
        ).all()
    )
    await session.rollback()  # hold no connection while Temporal works (the rows are expired: read them before)
    actor = Actor(official_id=principal.official_id, scopes=list(principal.scopes))
    reassign = ACTIONS["reassign"].act
    done: list[HandedOver] = []
    left: list[HandedOver] = []
    for task, to in plan:
        item = HandedOver(
            task_id=task.task_id or "", case_id=task.case_id, role=task.role or "", unit_code=task.unit_code, to=to
        )
        if to is None or temporal is None:
            left.append(item.model_copy(update={"to": None, "code": "no_holder" if to is None else "not_sent"}))
            continue
        req = ReassignRequest(reason=reason, official_id=to, filter=BulkFilter(province=task.province_code))
        try:
            await reassign(
                temporal, actor, req, task, f"{key or f'deactivate-{leaving}'}-{task.task_id}-{seqs.get(task.case_id)}"
            )
        except UPDATE_ERRORS as exc:
            left.append(item.model_copy(update={"to": None, "code": refusal(exc, case_id=task.case_id).code}))
        except Refusal as exc:  # no key to sign with
            left.append(item.model_copy(update={"to": None, "code": exc.code}))
        else:
            done.append(item)
    return done, left
