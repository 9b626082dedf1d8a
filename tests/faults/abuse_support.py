"""Helpers of the abuse and tamper scenarios (tests/faults/test_abuse.py): what the database and a case's history
hold (to prove a refused input changed nothing), cases parked at every stage, the app's mutating routes, and the
bad inputs hypothesis draws for every Update and every route."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle

from contracts import Actor, CaseResult, StartCaseInput
from db.models import (
    AbsenceRow,
    AuditEventRow,
    CaseRow,
    CriterionScoreRow,
    ProvinceTargetRow,
    RoleAssignmentRow,
    TaskRow,
)
from db.models_notify import NotificationRow
from domain.access import RoleScope, may_act, may_read
from domain.case import case_id_for
from domain.rounds import parse_round
from domain.rulesets import load_rule_set
from domain.stages import LocalityType, Role, Stage
from domain.units import load_units
from infra.clock import today_vn
from services.errors import Refusal
from services.fields import ID_PATTERN
from services.officials.rules import (
    DISTRICT_ROLES,
    PROVINCE_ROLES,
    check_email,
    check_locale,
    check_official_id,
    check_phone,
    check_role,
    clean_official,
)
from services.officials.sheets import COLUMNS
from services.rounds.opening import ensure_round
from services.seed import demo_officials, seed_officials
from services.sheets import column_key
from tests.officials.support import snapshot as directory_snapshot
from tests.support import PROVINCE, Stack, form_for, fresh_unit, sign_json, token_for
from workflows.case import RecognitionCaseWorkflow

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
OTHER_PROVINCE = "12"  # Lai Châu: no test starts cases there
RULE_SET = load_rule_set("qd06-2019")
CRITERIA = [c.number for c in RULE_SET.criteria]


# -- what the database and Temporal hold -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Snapshot:
    """Row counts of every table a transition writes, the open tasks as they stand (due, holder, escalation), and
    everything the officials' directory holds (officials, their assignments, its journal)."""

    counts: dict[str, int]
    tasks: tuple[tuple[Any, ...], ...]
    cases: tuple[tuple[Any, ...], ...]
    directory: dict[str, Any]

    def changes(self, after: Snapshot) -> str:
        """What differs in `after`, part by part (what a failing check prints)."""
        out = [f"counts {self.counts} → {after.counts}"] if self.counts != after.counts else []
        for part in ("tasks", "cases"):
            was, now = set(getattr(self, part)), set(getattr(after, part))
            if was != now:
                out.append(f"{part}: gone {sorted(was - now, key=str)[:5]}, new {sorted(now - was, key=str)[:5]}")
        out += [f"directory {k}" for k in self.directory if self.directory[k] != after.directory.get(k)]
        return "; ".join(out)


async def snapshot(sessions: async_sessionmaker[AsyncSession]) -> Snapshot:
    async with sessions() as session:
        counts = {}
        for model in (CaseRow, TaskRow, AuditEventRow, NotificationRow, CriterionScoreRow, ProvinceTargetRow):
            counts[model.__tablename__] = int(await session.scalar(select(func.count()).select_from(model)) or 0)
        tasks = (
            await session.execute(
                select(TaskRow.id, TaskRow.status, TaskRow.due_at, TaskRow.assignee_id, TaskRow.escalation_level)
                .where(TaskRow.status == "open")
                .order_by(TaskRow.id)
            )
        ).all()
        cases = (
            await session.execute(
                select(CaseRow.id, CaseRow.stage, CaseRow.status, CaseRow.last_seq, CaseRow.on_hold).order_by(
                    CaseRow.id
                )
            )
        ).all()
    return Snapshot(
        counts, tuple(tuple(t) for t in tasks), tuple(tuple(c) for c in cases), await directory_snapshot(sessions)
    )


async def case_rows(sessions: async_sessionmaker[AsyncSession], case_id: str) -> dict[str, int]:
    """How many rows of each kind one case has: journal, tasks, outbox (notifications), scores."""
    async with sessions() as session:
        out = {}
        for model, column in (
            (AuditEventRow, AuditEventRow.case_id),
            (TaskRow, TaskRow.case_id),
            (NotificationRow, NotificationRow.case_id),
            (CriterionScoreRow, CriterionScoreRow.case_id),
        ):
            out[model.__tablename__] = int(
                await session.scalar(select(func.count()).select_from(model).where(column == case_id)) or 0
            )
        return out


async def history_counts(handle: WorkflowHandle[Any, Any]) -> dict[str, int]:
    """Accepted updates and scheduled activities in a case's history."""
    accepted = scheduled = 0
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            accepted += 1
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled += 1
    return {"accepted": accepted, "scheduled": scheduled}


# -- cases parked at every stage -------------------------------------------------------------------------------------
ROLE_OF_STAGE = {
    Stage.REGISTRATION: Role.COMMUNE_OFFICER,
    Stage.SELF_ASSESSMENT: Role.COMMUNE_OFFICER,
    Stage.COUNCIL_ASSESSMENT: Role.COUNCIL_CHAIR,
    Stage.PUBLIC_POSTING: Role.COMMUNE_OFFICER,
    Stage.DOSSIER_SUBMISSION: Role.COMMUNE_OFFICER,
    Stage.APPRAISAL: Role.APPRAISER,
    Stage.DECISION: Role.CHAIRMAN,
    Stage.COMMENDATION: Role.CHAIRMAN,
}
HUMAN_STAGES = list(ROLE_OF_STAGE)


@dataclass
class Parked:
    """A case whose open task is at `stage`, with a token per role of its unit and province."""

    stage: Stage
    case_id: str
    unit_code: str
    task_id: str
    tokens: dict[Role, str]
    officials: dict[Role, str]

    def headers(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def actor(self, role: Role | None = None) -> Actor:
        """The official who may act (the stage's role over the unit, or the province's admin)."""
        role = role or ROLE_OF_STAGE[self.stage]
        unit = self.unit_code if role in UNIT_ROLES else None
        return Actor(
            official_id=self.officials[role], scopes=[RoleScope(role=role, province_code=PROVINCE, unit_code=unit)]
        )


UNIT_ROLES = frozenset({Role.COMMUNE_OFFICER, Role.COUNCIL_CHAIR, Role.COMMUNE_CHAIRMAN})


async def seed_unit_officials(sessions: async_sessionmaker[AsyncSession], unit: str) -> dict[Role, str]:
    officials = demo_officials(PROVINCE, unit)
    async with sessions() as session, session.begin():
        await seed_officials(session, officials, PROVINCE)
    return {o.role: o.id for o in officials}


async def seed_recognised_rounds(sessions: async_sessionmaker[AsyncSession], unit: str, rounds: list[str]) -> None:
    """The unit's earlier rounds, closed and recognised (so that this round's recognition makes a commendation due)."""
    at = datetime(2025, 1, 1, tzinfo=UTC)
    async with sessions() as session, session.begin():
        for rid in rounds:
            await ensure_round(session, parse_round(rid), "district")
            await session.execute(
                insert(CaseRow)
                .values(
                    id=case_id_for(rid, unit),
                    unit_code=unit,
                    province_code=PROVINCE,
                    round_id=rid,
                    rule_set_id="qd06-2019",
                    profile_id="district",
                    locality_type="other",
                    stage="closed",
                    status="closed",
                    outcome="recognised",
                    last_seq=0,  # no journal here: only the outcome the streak counts
                    opened_at=at,
                    updated_at=at,
                    closed_at=at,
                )
                .on_conflict_do_nothing()
            )


async def wait_for_task(stack: Stack, case_id: str, stage: Stage, timeout: float = 20) -> str:
    """The id of the case's open task once it is at `stage` in the read model."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with stack.sessions() as session:
            found = await session.scalar(
                select(TaskRow.id).where(TaskRow.case_id == case_id, TaskRow.status == "open", TaskRow.stage == stage)
            )
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"case {case_id} has no open {stage.value} task within {timeout} s")
        await asyncio.sleep(0.05)


async def park(stack: Stack, stage: Stage) -> Parked:
    """Start a case on a unit of its own and complete its tasks through the API up to `stage`."""
    unit = fresh_unit()
    officials = await seed_unit_officials(stack.sessions, unit)
    if stage == Stage.COMMENDATION:
        await seed_recognised_rounds(stack.sessions, unit, ["qd06-2019:2022", "qd06-2019:2024"])
    tokens = {role: token_for(oid) for role, oid in officials.items()}
    case_id = await stack.start_case(unit)
    for current in HUMAN_STAGES:
        task_id = await wait_for_task(stack, case_id, current)
        if current == stage:
            return Parked(stage, case_id, unit, task_id, tokens, officials)
        role = ROLE_OF_STAGE[current]
        resp = await stack.http.post(
            f"/v1/tasks/{task_id}/complete",
            json=form_for(current),
            headers={"Authorization": f"Bearer {tokens[role]}"},
        )
        assert resp.status_code == 200, f"{current}: {resp.status_code} {resp.text}"
    raise AssertionError(f"no stage {stage}")


# -- the app's routes ------------------------------------------------------------------------------------------------
def _walk(routes: list[Any], prefix: str = "") -> list[tuple[str, str]]:
    """(method, path) of every route, through included routers (FastAPI keeps them nested)."""
    out = []
    for route in routes:
        if isinstance(route, APIRoute):
            out += [(m, prefix + route.path) for m in route.methods - {"HEAD", "OPTIONS"}]
        elif hasattr(route, "original_router"):
            out += _walk(route.original_router.routes, prefix + route.include_context.prefix)
    return out


def all_routes(app: FastAPI) -> list[tuple[str, str]]:
    return sorted(set(_walk(app.routes)))


def mutating_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) of the app that may change something: the API's and the web pages' POSTs."""
    return [r for r in all_routes(app) if r[0] in MUTATING]


# -- bad inputs ------------------------------------------------------------------------------------------------------
JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
TEXT_NO_NUL = st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)))


def _taken_as(kind: Any) -> Callable[[Any], bool]:
    """Whether pydantic's lax mode, the API's, takes the value as `kind`: it reads "1.0" and "5_0" as the ints 1 and
    50, "+4102444800" and 3.5 as instants (seconds since 1970). A bad value drawn for a field must not be one."""
    adapter: TypeAdapter[Any] = TypeAdapter(kind)

    def taken(value: Any) -> bool:
        try:
            adapter.validate_python(value)
        except ValidationError:
            return False
        return True

    return taken


_TAKEN_AS_BOOL, _TAKEN_AS_INT = _taken_as(bool), _taken_as(int)
_TAKEN_AS_TIME, _TAKEN_AS_DAY = _taken_as(datetime), _taken_as(date)

# Values no field of the given kind takes, even in pydantic's lax mode (each drawn value is checked with pydantic).
NOT_BOOL = (st.sampled_from(["perhaps", "có", 2, -1, 0.5, [], {}, [True], {"v": True}]) | st.text(min_size=3)).filter(
    lambda v: not _TAKEN_AS_BOOL(v)
)
NOT_INT = (st.sampled_from(["mười", 1.5, [], {}, [1], "", "1e3x"]) | st.text(min_size=1)).filter(
    lambda v: not _TAKEN_AS_INT(v)
)
NOT_STR = st.sampled_from([1, 2.5, True, [], {}, ["x"], {"a": "b"}]) | st.integers()
NOT_DATE = (
    st.sampled_from(["hôm qua", "2027-13-01", "2027-02-30", "31/10/2027", [], {}, True])
    | st.text(min_size=1, max_size=12)
).filter(lambda v: not _TAKEN_AS_TIME(v) and not _TAKEN_AS_DAY(v))
NOT_LIST = st.sampled_from([1, "a", True, {"a": 1}, 2.5]) | st.text(min_size=1)
UNKNOWN_KEY = st.text(min_size=1, max_size=20).filter(lambda k: "\x00" not in k)

Kind = str  # "bool", "int", "str", "date", "list", "scores", "any"
# Each stage's required fields (the forms in domain/forms.py) and their kinds; optional ones the strategies may spoil.
FIELDS: dict[Stage, dict[str, tuple[Kind, bool]]] = {
    Stage.REGISTRATION: {"registered": ("bool", True), "note": ("str", False)},
    Stage.SELF_ASSESSMENT: {"scores": ("scores", True), "sources": ("dict", False)},
    Stage.COUNCIL_ASSESSMENT: {
        "scores": ("scores", True),
        "meeting_date": ("date", True),
        "minutes_ref": ("str", True),
        "members": ("list", True),
    },
    Stage.PUBLIC_POSTING: {
        "posted_from": ("date", True),
        "posted_to": ("date", True),
        "place": ("str", True),
        "objections": ("list", False),
    },
    Stage.DOSSIER_SUBMISSION: {"documents": ("list", True)},
    Stage.APPRAISAL: {"outcome": ("enum", True), "findings": ("str", False), "missing": ("list", False)},
    Stage.DECISION: {
        "recognised": ("bool", True),
        "decision_number": ("str", True),
        "decision_date": ("date", True),
        "reasons": ("list", False),
    },
    Stage.COMMENDATION: {
        "awarded": ("bool", True),
        "decision_number": ("str", False),
        "decision_date": ("date", False),
        "reasons": ("list", False),
    },
}
POISON: dict[Kind, st.SearchStrategy[Any]] = {
    "bool": NOT_BOOL,
    "int": NOT_INT,
    "str": NOT_STR,
    "date": NOT_DATE,
    "list": NOT_LIST,
    "dict": NOT_LIST.filter(lambda v: not isinstance(v, dict)),
    "scores": NOT_LIST.filter(lambda v: not isinstance(v, dict)),
    "enum": st.text().filter(lambda s: s.strip() not in {"accept", "return", "refuse"}) | NOT_STR,
}


def _bad_scores() -> st.SearchStrategy[dict[str, Any]]:
    full = {str(c.number): c.max_points for c in RULE_SET.criteria}
    maxima = {str(c.number): c.max_points for c in RULE_SET.criteria}

    def above(pair: tuple[str, int]) -> dict[str, Any]:
        key, extra = pair
        return {**full, key: maxima[key] + extra}

    def below(pair: tuple[str, int]) -> dict[str, Any]:
        key, neg = pair
        return {**full, key: -neg}

    def without(key: str) -> dict[str, Any]:
        return {k: v for k, v in full.items() if k != key}

    keys = st.sampled_from(sorted(full))
    unknown = st.integers().filter(lambda n: n not in CRITERIA).map(lambda n: {**full, str(n): 0})
    return st.one_of(
        st.tuples(keys, st.integers(min_value=1, max_value=10**30)).map(above),
        st.tuples(keys, st.integers(min_value=1, max_value=10**30)).map(below),
        keys.map(without),
        unknown,
        st.tuples(keys, NOT_INT).map(lambda p: {**full, p[0]: p[1]}),
        st.just({}),
    )


def bad_form(stage: Stage) -> st.SearchStrategy[Any]:
    """A payload the stage's form must refuse: the valid form with one thing spoiled, or no form at all."""
    good = form_for(stage)
    fields = FIELDS[stage]
    required = [name for name, (_, req) in fields.items() if req]
    spoilable = list(fields)
    options: list[st.SearchStrategy[Any]] = [
        # an unknown field (forms forbid extras)
        st.tuples(UNKNOWN_KEY.filter(lambda k: k.strip() not in fields), JSON).map(lambda kv: {**good, kv[0]: kv[1]}),
        # one required field missing
        st.sampled_from(required).map(lambda name: {k: v for k, v in good.items() if k != name}),
        # one field of the wrong kind
        st.sampled_from(spoilable).flatmap(
            lambda name: POISON[fields[name][0]].map(lambda v, n=name: {**good, n: v})  # type: ignore[misc]
        ),
        # not an object at all, or an empty one
        st.one_of(st.just({}), st.lists(JSON, max_size=3), JSON_SCALARS).filter(lambda v: v != good),
    ]
    if "scores" in fields:
        options.append(_bad_scores().map(lambda s: {**good, "scores": s}))
    options += _stage_rules(stage, good)
    return st.one_of(*options)


def _stage_rules(stage: Stage, good: dict[str, Any]) -> list[st.SearchStrategy[Any]]:
    """Forms that parse but break a rule of the procedure (domain/forms.py, `_check`)."""
    day = st.dates(min_value=datetime(2000, 1, 1).date(), max_value=datetime(2100, 1, 1).date())
    match stage:
        case Stage.PUBLIC_POSTING:
            return [
                st.tuples(day, st.integers(min_value=1, max_value=3650)).map(
                    lambda p: {
                        **good,
                        "posted_from": p[0].isoformat(),
                        "posted_to": (p[0] - timedelta(p[1])).isoformat(),
                    }
                ),
                day.map(lambda d: {**good, "posted_from": d.isoformat(), "posted_to": d.isoformat()}),
                st.text(min_size=1, max_size=8)
                .filter(lambda s: s.strip() != "" and "\x00" not in s)
                .map(lambda i: {**good, "objections": [{"id": i, "text": "a"}, {"id": i, "text": "b"}]}),
            ]
        case Stage.DOSSIER_SUBMISSION:
            docs = good["documents"]
            return [
                st.integers(min_value=0, max_value=3).map(lambda i: {"documents": docs[:i] + docs[i + 1 :]}),
                st.integers(min_value=0, max_value=3).map(lambda i: {"documents": [*docs, docs[i]]}),
                st.text()
                .filter(
                    lambda k: k not in {"request_letter", "assessment_report", "data_explanation", "council_minutes"}
                )
                .map(lambda k: {"documents": [*docs, {"kind": k, "reference": "x"}]}),
            ]
        case Stage.APPRAISAL:
            return [
                st.just({"outcome": "return", "findings": "thiếu", "missing": []}),
                st.just({"outcome": "refuse", "findings": ""}),
                st.just({"outcome": "refuse", "findings": "   "}),
            ]
        case Stage.DECISION:
            return [st.just({**good, "recognised": False, "reasons": []})]
        case Stage.COMMENDATION:
            return [
                st.just({"awarded": True, "decision_number": "", "decision_date": "2027-12-20"}),
                st.just({"awarded": True, "decision_number": "QĐ-1"}),
                st.just({"awarded": False, "reasons": []}),
            ]
        case Stage.COUNCIL_ASSESSMENT:
            return [
                st.text(min_size=1, max_size=10)
                .filter(lambda s: s.strip() and "\x00" not in s)
                .map(lambda i: {**good, "objection_answers": [{"objection_id": i, "answer": "đã trả lời"}]})
            ]
    return []


# -- bad actors for direct Updates -----------------------------------------------------------------------------------
def wrong_scopes(parked: Parked, role: Role) -> st.SearchStrategy[list[RoleScope]]:
    """Role assignments that do not give `role` over the parked case's unit: another role, another unit, another
    province, a unit-scoped assignment of a province role elsewhere, or none at all."""
    others = [r for r in Role if r != role]
    return st.one_of(
        st.just([]),
        st.sampled_from(others).map(lambda r: [RoleScope(role=r, province_code=PROVINCE, unit_code=None)]),
        st.sampled_from(others).map(lambda r: [RoleScope(role=r, province_code=PROVINCE, unit_code=parked.unit_code)]),
        st.just([RoleScope(role=role, province_code=OTHER_PROVINCE, unit_code=None)]),
        st.just([RoleScope(role=role, province_code=PROVINCE, unit_code=_other_unit(parked.unit_code))]),
    )


def _other_unit(unit: str) -> str:
    return f"{(int(unit) + 1) % 100000:05d}"


@dataclass
class Outcome:
    """What one fuzzed input got: refused (with the reason), or not."""

    refused: bool
    code: str | None
    field: str | None
    status: int | None = None
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def problem_of(resp: httpx.Response) -> Outcome:
    if resp.headers.get("content-type", "").startswith("application/problem+json"):
        body = resp.json()
        return Outcome(resp.status_code >= 400, body.get("code"), body.get("field"), resp.status_code, body["detail"])
    return Outcome(resp.status_code >= 400, None, None, resp.status_code, resp.text[:200])


def handle_of(client: Client, case_id: str) -> WorkflowHandle[Any, Any]:
    return client.get_workflow_handle_for(RecognitionCaseWorkflow.run, case_id)


ADMIN_UPDATES = ("extend_due", "reassign", "hold", "release", "withdraw")
# Every mutating route and whether it takes input (route_fuzz builds the strategies once the cases are parked).
ROUTE_KEYS: tuple[tuple[str, str], ...] = (
    ("POST", "/v1/tasks/{task_id}/complete"),
    ("POST", "/v1/cases/{case_id}/withdraw"),
    ("POST", "/v1/bulk/extend-due"),
    ("POST", "/v1/bulk/reassign"),
    ("POST", "/v1/bulk/remind"),
    ("POST", "/v1/bulk/hold"),
    ("POST", "/v1/bulk/release"),
    ("POST", "/v1/me/notifications/read"),
    ("POST", "/v1/rounds"),
    ("POST", "/v1/audit/cases/{case_id}/replay"),
    ("POST", "/v1/audit/cases/{case_id}/archive"),
    ("POST", "/web/signin"),
    ("POST", "/web/signout"),
    ("POST", "/web/tasks/{task_id}/preview"),
    ("POST", "/web/tasks/{task_id}"),
    ("POST", "/web/bulk/extend-due"),
    ("POST", "/web/cases/{case_id}/replay"),
    ("POST", "/v1/officials"),
    ("PATCH", "/v1/officials/{official_id}"),
    ("POST", "/v1/officials/import"),
    ("POST", "/v1/officials/{official_id}/deactivate"),
    ("POST", "/v1/officials/{official_id}/roles"),
    ("POST", "/v1/officials/{official_id}/roles/{assignment_id}/end"),
    ("POST", "/v1/officials/{official_id}/absences"),
    ("POST", "/v1/officials/{official_id}/absences/{absence_id}/end"),
    ("PUT", "/v1/targets"),
    ("POST", "/v1/rounds/{round_id}/ministry-report"),
    ("POST", "/web/rounds/{round_id}/ministry-report"),
    ("POST", "/v1/provinces/{code}/past-rounds"),
    ("POST", "/v1/rules/what-if"),
    ("POST", "/web/what-if"),
)


# -- bad inputs to direct Updates (raw JSON, as any Temporal client could send them) ---------------------------------
def _json_actor(actor: Actor) -> dict[str, Any]:
    return actor.model_dump(mode="json")


REASONS_BAD = st.one_of(st.just(""), st.text(min_size=2001, max_size=2100), NOT_STR)


def bad_admin_update(name: str, parked: Parked) -> st.SearchStrategy[dict[str, Any]]:
    """An administrator's Update the case must refuse: the wrong official, a bad reason, a missing field, the wrong
    task, a due time in the past or without a time zone; `release` on a case that is not on hold."""
    admin = parked.actor(Role.ADMIN)
    base: dict[str, Any] = {"actor": _json_actor(admin), "reason": "kiểm tra"}
    now = datetime.now(UTC)
    if name == "extend_due":
        base |= {"task_id": parked.task_id, "new_due_at": (now + timedelta(days=30)).isoformat()}
    elif name == "reassign":
        base |= {"task_id": parked.task_id, "official_id": parked.officials[Role.COMMUNE_OFFICER]}
    keys = sorted(base)
    spoils: list[st.SearchStrategy[dict[str, Any]]] = [
        wrong_scopes(parked, Role.ADMIN).map(
            lambda scopes: {**base, "actor": {**base["actor"], "scopes": [s.model_dump(mode="json") for s in scopes]}}
        ),
        st.sampled_from(keys).map(lambda k: {key: v for key, v in base.items() if key != k}),
        REASONS_BAD.map(lambda r: {**base, "reason": r}),
        st.sampled_from([{**base["actor"], "official_id": ""}, {"official_id": "x"}, [], "admin", None]).map(
            lambda a: {**base, "actor": a}
        ),
        st.one_of(JSON_SCALARS, st.lists(JSON, max_size=3)),
    ]
    if "task_id" in base:
        spoils.append(
            st.one_of(TEXT_NO_NUL, st.just(parked.task_id[:-1] + "9"))
            .filter(lambda t: t != parked.task_id)
            .map(lambda t: {**base, "task_id": t})
        )
    if name == "extend_due":
        past = st.integers(min_value=1, max_value=10**9).map(lambda sec: (now - timedelta(seconds=sec)).isoformat())
        naive = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1)).map(
            lambda d: d.isoformat()
        )
        beyond = st.datetimes(  # past the end of the calendar: its reminder or ladder cannot be scheduled
            min_value=datetime(9999, 12, 29), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)
        ).map(lambda d: d.isoformat())
        spoils += [
            beyond.map(lambda d: {**base, "new_due_at": d}),
            past.map(lambda d: {**base, "new_due_at": d}),
            naive.map(lambda d: {**base, "new_due_at": d}),
            NOT_DATE.map(lambda d: {**base, "new_due_at": d}),
        ]
    if name == "reassign":
        spoils.append(st.sampled_from(["", 1, None, []]).map(lambda o: {**base, "official_id": o}))
    if name == "release":  # the parked case is not on hold: every release is refused, even a well-formed one
        spoils.append(st.just(base))
    return st.one_of(*spoils)


def bad_nudge(parked: Parked) -> st.SearchStrategy[Any]:
    """A `nudge` signal the case must drop: the wrong official, the wrong task, no input, a malformed one; vouched
    for (tests/support.py `sign_json`), so that what drops it is the case's own rule, not the missing assertion."""
    base = {"actor": _json_actor(parked.actor(Role.ADMIN)), "task_id": parked.task_id}
    # Each its own id, as the services give each nudge: what drops it is not that the case took that nudge already.
    return _drops(parked, base).map(
        lambda arg: sign_json("nudge", arg, parked.case_id, update_id=f"nudge-{uuid.uuid4()}")
    )


def _drops(parked: Parked, base: dict[str, Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.just(None),
        wrong_scopes(parked, Role.ADMIN).map(
            lambda scopes: {**base, "actor": {**base["actor"], "scopes": [s.model_dump(mode="json") for s in scopes]}}
        ),
        TEXT_NO_NUL.filter(lambda t: t != parked.task_id).map(lambda t: {**base, "task_id": t}),
        st.sampled_from(["actor", "task_id"]).map(lambda k: {key: v for key, v in base.items() if key != k}),
        st.one_of(JSON_SCALARS, st.lists(JSON, max_size=3)),
    )


# -- bad HTTP requests -----------------------------------------------------------------------------------------------
@dataclass
class BadRequest:
    method: str
    path: str
    json: Any = None
    form: dict[str, str] | None = None
    role: Role | None = Role.ADMIN  # whose token (None: none)
    parked: Stage = Stage.REGISTRATION  # whose case's officials
    web: bool = False  # signed in by cookie, with the form's CSRF token
    files: dict[str, tuple[str, bytes, str]] | None = None  # a multipart upload: field → (name, content, type)


FILTER_KEYS = frozenset(
    {"province", "units", "stages", "round", "case_ids", "overdue", "escalated", "on_hold", "due_before", "due_after"}
)
GARBAGE_ID = st.one_of(
    st.text(min_size=1, max_size=60).filter(lambda s: "\x00" not in s and s.strip("/") == s and "/" not in s),
    st.just("qd06-2019:2027-00000-t01"),
    st.just("x" * 400),
).filter(lambda s: s not in {".", ".."})
LONG = st.text(min_size=2001, max_size=2100)
NOT_NUMBER = st.sampled_from(["x", "", [], {}, None, "9O"])
BAD_FILTER = st.one_of(
    st.fixed_dictionaries({"province": st.text(max_size=5).filter(lambda s: not (len(s) == 2 and s.isdigit()))}),
    st.fixed_dictionaries(
        {
            "units": st.lists(
                st.text(max_size=7).filter(lambda s: not (len(s) == 5 and s.isdigit())), min_size=1, max_size=3
            )
        }
    ),
    st.fixed_dictionaries({"round": st.text(max_size=12).filter(lambda s: ":" not in s)}),
    st.fixed_dictionaries(
        {"stages": st.lists(st.text(max_size=10).filter(lambda s: s not in set(Stage)), min_size=1, max_size=2)}
    ),
    st.fixed_dictionaries({"overdue": NOT_BOOL}),
    st.fixed_dictionaries({"due_before": NOT_DATE}),
    st.dictionaries(UNKNOWN_KEY.filter(lambda k: k not in FILTER_KEYS), JSON, min_size=1, max_size=2),
    NOT_LIST.filter(lambda v: not isinstance(v, dict)),
)


def _spoil_body(
    good: dict[str, Any], field_kinds: dict[str, st.SearchStrategy[Any]], required: list[str]
) -> st.SearchStrategy[Any]:
    """The good body with one field spoiled, one required field dropped, an unknown field added, or no object."""
    options: list[st.SearchStrategy[Any]] = [
        st.sampled_from(sorted(field_kinds)).flatmap(lambda k: field_kinds[k].map(lambda v, k=k: {**good, k: v})),
        st.tuples(UNKNOWN_KEY.filter(lambda k: k not in good and k not in field_kinds), JSON).map(
            lambda kv: {**good, kv[0]: kv[1]}
        ),
        st.one_of(st.lists(JSON, max_size=3), JSON_SCALARS),
    ]
    if required:
        options.append(st.sampled_from(required).map(lambda k: {key: v for key, v in good.items() if key != k}))
    return st.one_of(*options)


def _bulk(
    path: str, extra_good: dict[str, Any], extra_kinds: dict[str, st.SearchStrategy[Any]]
) -> st.SearchStrategy[BadRequest]:
    good = {"filter": {"province": PROVINCE}, "dry_run": True, "reason": "kiểm tra", **extra_good}
    kinds: dict[str, st.SearchStrategy[Any]] = {
        "filter": BAD_FILTER,
        "dry_run": NOT_BOOL,
        "reason": st.one_of(st.just(""), LONG, NOT_STR),
        "batch_size": st.one_of(st.integers(max_value=0), st.integers(min_value=501), NOT_INT),
        **extra_kinds,
    }
    required = [] if path.endswith("remind") else ["reason"]
    return _spoil_body(good, kinds, required).map(lambda b: BadRequest("POST", path, json=b))


# -- bad requests to the officials' directory (services/officials, docs/officials.md) --------------------------------
PROVINCE_UNITS = frozenset(u.code for u in load_units(PROVINCE))
CONTROLS = [chr(c) for c in range(1, 32)] + ["\x7f"]


def _nul_free(min_size: int = 0, max_size: int = 40) -> st.SearchStrategy[str]:
    alphabet = st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))
    return st.text(alphabet=alphabet, min_size=min_size, max_size=max_size)


# Text with a control character inside it (trimming cannot take it away).
CONTROL_TEXT = st.tuples(_nul_free(max_size=8), st.sampled_from(CONTROLS), _nul_free(max_size=8)).map(
    lambda p: f"a{p[0]}{p[1]}{p[2]}b"
)


def _refused(check: Callable[[Any], Any], value: Any) -> bool:
    """Whether the directory's own check (services/officials/rules.py) refuses the value: the fuzz sends only those."""
    try:
        check(value)
    except Refusal:
        return True
    return False


def _bad_text(check: Callable[[Any], Any], candidates: st.SearchStrategy[Any], limit: int) -> st.SearchStrategy[Any]:
    """Values of a text field the API refuses: candidates `check` refuses, text longer than the API takes (`limit`),
    and values that are not text."""
    return st.one_of(
        candidates.filter(lambda v: _refused(check, v)), _nul_free(min_size=limit + 1, max_size=limit + 20), NOT_STR
    )


def _detail(name: str) -> Callable[[Any], Any]:
    """The check of one of an official's details, the others left out."""
    return lambda v: clean_official({"full_name": "Nguyễn Văn A", name: v})


BAD_EMAIL = _bad_text(
    check_email,
    st.one_of(
        st.sampled_from(
            [
                *("không-phải-email", "lan@", "@hungyen.gov.vn", "lan@@hungyen.gov.vn", "lan nt@hungyen.gov.vn"),
                *("lan@hungyen", "lan@hungyen.v", "lan@-hungyen.vn", "l" * 65 + "@hungyen.gov.vn"),
                "a@" + "b" * 260 + ".vn",  # longer than an address may be
            ]
        ),
        _nul_free(),
        CONTROL_TEXT.map(lambda t: f"{t}@hungyen.gov.vn"),
    ),
    400,
)
BAD_PHONE = _bad_text(
    check_phone,
    st.one_of(
        st.sampled_from(["12", "0012345678", "091234567", "09123456789", "+85912345678", "0912 345 67a", "số máy"]),
        st.from_regex(r"\A\+?[0-9 .\-]{1,16}\Z"),
        _nul_free(),
    ),
    80,
)
BAD_LOCALE = _bad_text(
    check_locale, st.one_of(st.sampled_from(["fr", "vi-VN", "tiếng Việt", "en_US", "VIE"]), _nul_free(max_size=10)), 10
)
BAD_DETAILS: dict[str, st.SearchStrategy[Any]] = {
    "full_name": _bad_text(
        _detail("full_name"), st.one_of(st.sampled_from([None, "", "   ", "\t\n", "a" * 201]), CONTROL_TEXT), 400
    ),
    "position_title": _bad_text(_detail("position_title"), st.one_of(st.just("a" * 201), CONTROL_TEXT), 400),
    "phone": BAD_PHONE,
    "locale": BAD_LOCALE,
    # one of the pair without the other (the officials fuzzed have neither)
    "oidc_issuer": _bad_text(_detail("oidc_issuer"), st.one_of(_nul_free(min_size=1), CONTROL_TEXT), 1000),
    "oidc_subject": _bad_text(_detail("oidc_subject"), st.one_of(_nul_free(min_size=1), CONTROL_TEXT), 1000),
}
BAD_ROLE = _bad_text(
    check_role, st.one_of(st.sampled_from(["", "  ", "thủ tướng", "cán bộ", "quản trị"]), _nul_free(max_size=30)), 200
)
BAD_UNIT = st.one_of(
    _nul_free(max_size=8).filter(lambda s: not re.fullmatch(r"[0-9]{5}", s)),  # not a unit code
    st.from_regex(r"\A[0-9]{5}\Z").filter(lambda u: u not in PROVINCE_UNITS),  # no unit of the province
    NOT_STR,
)
BAD_PROVINCE = st.one_of(
    NOT_STR,
    _nul_free(max_size=4).filter(lambda s: not re.fullmatch(r"[0-9]{2}", s)),
    st.sampled_from([OTHER_PROVINCE, "00", "99"]),  # one the administrator does not administer: 403
)
BAD_REASON = st.one_of(LONG, NOT_STR)
DAY = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1))


def _bad_role(good: dict[str, Any], extra: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """A role to give that the directory refuses: `good` (a commune role over a unit of the province, and for a
    request its province) with one field spoiled, a provincial role over a unit, a district role still held after
    the district level ended, or a last day before the first."""
    unit = good["unit_code"]
    rest = {k: v for k, v in good.items() if k not in ("role", "unit_code")}
    kinds = {
        "role": BAD_ROLE,
        "unit_code": st.one_of(BAD_UNIT, st.none()),  # none: a commune role over no unit
        "valid_from": NOT_DATE,
        "valid_until": NOT_DATE,
        **extra,
    }
    return st.one_of(
        _spoil_body(good, kinds, [k for k in ("province", "role", "unit_code") if k in good]),
        st.sampled_from(sorted(r.value for r in PROVINCE_ROLES)).map(lambda r: {**rest, "role": r, "unit_code": unit}),
        st.tuples(
            st.sampled_from(sorted(r.value for r in DISTRICT_ROLES)),
            st.one_of(st.none(), st.dates(min_value=date(2025, 7, 1), max_value=date(2100, 1, 1))),
        ).map(lambda p: {**rest, "role": p[0], "valid_until": p[1] and p[1].isoformat()}),
        st.tuples(DAY, st.integers(min_value=1, max_value=3650)).map(
            lambda p: {**good, "valid_from": p[0].isoformat(), "valid_until": (p[0] - timedelta(p[1])).isoformat()}
        ),
    )


def _sheet(header: list[str], rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    return out.getvalue().encode()


def _import(
    data: bytes, *, apply: Any = "true", province: Any = PROVINCE, name: str = "can-bo.csv", part: str = "file"
) -> BadRequest:
    query = urlencode({"province": province, "apply": apply})
    return BadRequest("POST", f"/v1/officials/import?{query}", files={part: (name, data, "text/csv")})


def _bad_import(reg: Parked) -> st.SearchStrategy[BadRequest]:
    """A spreadsheet the import refuses whole (`invalid_file`: unreadable, a column unknown, missing or twice), one
    applied with a row refused (`import_refused`: a bad cell, a row twice, an official's details differing between
    rows), a request without a file, or for a province that is not the administrator's."""
    good = {
        "ma_can_bo": "fz-nhap",
        "ho_ten": "Lê Thị Nhập",
        "email": "nhap@hungyen.gov.vn",
        "dien_thoai": "0912 345 679",
        "ngon_ngu": "vi",
        "vai_tro": "Cán bộ văn hóa - xã hội",
        "ma_don_vi": reg.unit_code,
        "hieu_luc_tu": "01/07/2025",
        "hieu_luc_den": "",
    }
    header = list(good)

    def sheet(*rows: dict[str, Any]) -> bytes:
        return _sheet(header, [[r[c] for c in header] for r in rows])

    bad_day = st.sampled_from(["32/01/2026", "2026-02-30", "hôm nay", "1/13/2026", "01-07-2025", "2026/07/01"])
    text = st.one_of(_nul_free(max_size=30), CONTROL_TEXT)
    cells: dict[str, st.SearchStrategy[str]] = {
        "ma_can_bo": st.one_of(st.sampled_from(["", "-x", "a b", "x" * 201]), text).filter(
            lambda v: _refused(check_official_id, v)
        ),
        "ho_ten": st.one_of(st.sampled_from(["", "   ", "a" * 201]), CONTROL_TEXT),
        "email": st.one_of(st.sampled_from(["lan@", "lan@hungyen", "a b@x.vn"]), text).filter(
            lambda v: _refused(check_email, v)
        ),
        "dien_thoai": st.sampled_from(["12", "0012345678", "09123456789", "+85912345678", "0912 345 67a"]),
        "ngon_ngu": st.one_of(st.just("fr"), text).filter(lambda v: _refused(check_locale, v)),
        "vai_tro": st.one_of(
            st.one_of(st.just("thủ tướng"), text).filter(lambda v: _refused(check_role, v)),
            st.sampled_from(["appraiser", "Quản trị viên", "district_appraiser"]),  # not over a unit; ended
        ),
        "ma_don_vi": st.one_of(
            st.sampled_from(["", "abcde", "1234567", "12a45"]),
            st.from_regex(r"\A[0-9]{5}\Z").filter(lambda u: u not in PROVINCE_UNITS),
        ),
        "hieu_luc_tu": bad_day,
        "hieu_luc_den": st.one_of(bad_day, st.just("30/06/2025")),  # the day before the first
    }
    unknown = _nul_free(min_size=1, max_size=20).filter(lambda s: bool(s.strip()) and column_key(s) not in COLUMNS)
    required = ["ma_can_bo", "ho_ten", "vai_tro"]
    whole = st.one_of(
        st.binary(max_size=300),
        st.binary(max_size=300).map(lambda b: b"PK\x03\x04" + b),  # a zip that is no workbook
        st.sampled_from(required).map(
            lambda c: _sheet([h for h in header if h != c], [[good[h] for h in header if h != c]])
        ),
        unknown.map(lambda u: _sheet([*header, u], [[*good.values(), "x"]])),
        st.sampled_from(header).map(lambda c: _sheet([*header, c], [[*good.values(), good[c]]])),
    )
    rows = st.one_of(
        st.sampled_from(header).flatmap(lambda c: cells[c].map(lambda v, c=c: sheet({**good, c: v}))),  # type: ignore[misc]
        st.just(sheet(good, good)),
        st.just(sheet(good, {**good, "ho_ten": "Lê Thị Khác", "vai_tro": "council_chair"})),
    )
    return st.one_of(
        st.tuples(whole, st.sampled_from(["true", "false"])).map(lambda p: _import(p[0], apply=p[1])),
        rows.map(lambda data: _import(data)),
        st.just(_import(sheet(good), part="tep")),
        st.just(BadRequest("POST", "/v1/officials/import?province=" + PROVINCE, json={"file": "x"})),
        st.one_of(st.sampled_from([OTHER_PROVINCE, "00", "3", "333"]), _nul_free(max_size=4)).map(
            lambda p: _import(sheet(good), province=p, apply="false")
        ),
        st.sampled_from(["có", "2", "perhaps", "-1", "tru"]).map(lambda a: _import(sheet(good), apply=a)),
    )


def _officials_fuzz(
    parked: dict[Stage, Parked], held: dict[Role, int]
) -> dict[tuple[str, str], st.SearchStrategy[BadRequest]]:
    """Bad requests to every write of the directory, by the province's administrator: on the registration case's
    commune officer (who holds one role, the commune officer's over the unit: `held`), on officials that do not
    exist, and on the administrator themselves."""
    from tests.faults.abuse_whatif import bad_whatif  # here: it needs BadRequest from this module

    reg = parked[Stage.REGISTRATION]
    officer, admin = reg.officials[Role.COMMUNE_OFFICER], reg.officials[Role.ADMIN]
    known = {oid for p in parked.values() for oid in p.officials.values()}
    nobody = GARBAGE_ID.filter(lambda s: s not in known)
    taken = f"{reg.officials[Role.COUNCIL_CHAIR]}@example.invalid"  # another official's email (services/seed.py)
    details = {**BAD_DETAILS, "email": st.one_of(BAD_EMAIL, st.sampled_from([taken, taken.upper()]))}
    role = {"role": "commune_officer", "unit_code": reg.unit_code}
    new = {"id": "fz-moi", "province": PROVINCE, "full_name": "Nguyễn Văn Mới", "roles": [role]}
    new |= {"email": "moi@hungyen.gov.vn", "phone": "0912 345 678", "locale": "vi"}
    roles = st.one_of(
        st.just([]),
        NOT_LIST,
        st.lists(st.just(role), min_size=51, max_size=53),
        st.just([role, role]),  # the same role and scope twice
        _bad_role(role, {}).map(lambda r: [r]),
        _bad_role(role, {}).map(lambda r: [role, r]),
    )
    bad_id = st.one_of(NOT_STR, _nul_free(max_size=30).filter(lambda s: not re.fullmatch(ID_PATTERN[1:-1], s)))
    assignment = st.one_of(
        st.integers(max_value=0).map(str),
        st.integers(min_value=2**53).map(str),
        _nul_free(min_size=1, max_size=12).filter(lambda s: not any(c.isdigit() for c in s) and s not in {".", ".."}),
    )
    roles_of = f"/v1/officials/{officer}/roles"

    def req(method: str, path: str) -> Callable[[Any], BadRequest]:
        return lambda body: BadRequest(method, path, json=body)

    return {
        ("POST", "/v1/officials"): _spoil_body(
            new,
            {
                **details,
                "id": st.one_of(bad_id, st.just(officer)),  # taken: 409
                "province": BAD_PROVINCE,
                "roles": roles,
                "reason": BAD_REASON,
            },
            ["id", "province", "full_name", "roles"],
        ).map(req("POST", "/v1/officials")),
        ("PATCH", "/v1/officials/{official_id}"): st.one_of(
            _spoil_body({"position_title": "Công chức Văn hóa - Xã hội"}, {**details, "reason": BAD_REASON}, []).map(
                req("PATCH", f"/v1/officials/{officer}")
            ),
            nobody.map(lambda o: BadRequest("PATCH", f"/v1/officials/{quote(o)}", json={"position_title": "x"})),
        ),
        ("POST", "/v1/officials/import"): _bad_import(reg),
        ("POST", "/v1/officials/{official_id}/deactivate"): st.one_of(
            _spoil_body({"reason": "chuyển công tác"}, {"reason": st.one_of(st.just(""), BAD_REASON)}, ["reason"]).map(
                req("POST", f"/v1/officials/{officer}/deactivate")
            ),
            nobody.map(lambda o: BadRequest("POST", f"/v1/officials/{quote(o)}/deactivate", json={"reason": "x"})),
            st.just(BadRequest("POST", f"/v1/officials/{admin}/deactivate", json={"reason": "x"})),  # oneself: 409
        ),
        ("POST", "/v1/officials/{official_id}/roles"): st.one_of(
            st.just({"province": PROVINCE, **role}),  # held already: 409
            _bad_role({"province": PROVINCE, **role}, {"province": BAD_PROVINCE, "reason": BAD_REASON}),
        )
        .map(req("POST", roles_of))
        .flatmap(
            lambda r: st.one_of(
                st.just(r), nobody.map(lambda o: BadRequest("POST", f"/v1/officials/{quote(o)}/roles", json=r.json))
            )
        ),
        ("POST", "/v1/officials/{official_id}/roles/{assignment_id}/end"): st.one_of(
            _spoil_body({"reason": "hết nhiệm kỳ"}, {"valid_until": NOT_DATE, "reason": BAD_REASON}, []).map(
                req("POST", f"{roles_of}/{held[Role.COMMUNE_OFFICER]}/end")
            ),
            assignment.map(lambda a: BadRequest("POST", f"{roles_of}/{quote(a)}/end", json={})),
            st.integers(min_value=10**9, max_value=2**53 - 1).map(
                lambda a: BadRequest("POST", f"{roles_of}/{a}/end", json={})  # no such assignment: 404
            ),
            st.just(BadRequest("POST", f"{roles_of}/{held[Role.ADMIN]}/end", json={})),  # another official's: 404
            nobody.map(
                lambda o: BadRequest(
                    "POST", f"/v1/officials/{quote(o)}/roles/{held[Role.COMMUNE_OFFICER]}/end", json={}
                )
            ),
            # the administrator's own administrator role: 409
            st.just(BadRequest("POST", f"/v1/officials/{admin}/roles/{held[Role.ADMIN]}/end", json={})),
        ),
        **_absence_fuzz(reg, nobody, bad_id),
        ("PUT", "/v1/targets"): _bad_target(),
        ("POST", "/v1/rounds/{round_id}/ministry-report"): _bad_submission(),
        ("POST", "/v1/provinces/{code}/past-rounds"): _bad_past_rounds(),
        **bad_whatif(),
    }


PAST_HEADER = ["ma_don_vi", "ten_don_vi", "nam", "so_quyet_dinh", "ngay_quyet_dinh"]


def _past(data: bytes, *, apply: str = "true", province: str = PROVINCE, part: str = "file") -> BadRequest:
    url = f"/v1/provinces/{quote(province, safe='')}/past-rounds?apply={quote(apply)}"
    return BadRequest("POST", url, files={part: ("ky-truoc.csv", data, "text/csv")})


def _bad_past_rounds() -> st.SearchStrategy[BadRequest]:
    """A file of past rounds the import refuses (docs/history.md): unreadable, a column unknown or missing, applied
    with a row refused (a unit the province never had, a year no rule set assessed in or not yet past, a date that
    does not exist or is before the round, a decision without number), no file, another province."""
    good = {
        "ma_don_vi": "11953",
        "ten_don_vi": "",
        "nam": "2022",
        "so_quyet_dinh": "1/QĐ-UBND",
        "ngay_quyet_dinh": "20/12/2022",
    }

    def sheet(row: dict[str, str]) -> bytes:
        return _sheet(PAST_HEADER, [[row[c] for c in PAST_HEADER]])

    cells: dict[str, st.SearchStrategy[str]] = {
        "ma_don_vi": st.sampled_from(["99999", "abcde", "123456", "1 2"]),
        "nam": st.sampled_from(["2020", "2021", "2023", "2025", "2026", "2009", "2101", "20x2", "2027", "28"]),
        "so_quyet_dinh": st.sampled_from(["", "x" * 101]),
        "ngay_quyet_dinh": st.sampled_from(["31/02/2024", "hôm nay", "01/01/2099", "01/06/2022", "2022/12/20", ""]),
    }
    whole = st.one_of(
        st.binary(max_size=300).filter(lambda b: b"," not in b),
        st.binary(max_size=300).map(lambda b: b"PK\x03\x04" + b),
        st.sampled_from(["nam", "so_quyet_dinh", "ngay_quyet_dinh"]).map(
            lambda c: _sheet([h for h in PAST_HEADER if h != c], [[good[h] for h in PAST_HEADER if h != c]])
        ),
        st.just(_sheet(["ten_huyen", "nam", "so_quyet_dinh", "ngay_quyet_dinh"], [["x", "2022", "1", "20/12/2022"]])),
        st.just(_sheet([*PAST_HEADER, "ghi_chu"], [[*good.values(), "x"]])),
    )
    return st.one_of(
        st.tuples(whole, st.sampled_from(["true", "false"])).map(lambda p: _past(p[0], apply=p[1])),
        st.sampled_from(list(cells)).flatmap(lambda c: cells[c].map(lambda v, c=c: _past(sheet({**good, c: v})))),  # type: ignore[misc]
        st.just(_past(sheet(good), part="tep")),
        st.sampled_from([OTHER_PROVINCE, "00"]).map(lambda p: _past(sheet(good), province=p, apply="false")),
        st.sampled_from(["có", "2", "perhaps"]).map(lambda a: _past(sheet(good), apply=a)),
    )


def _bad_submission() -> st.SearchStrategy[BadRequest]:
    """A report to the ministry the administrator may not submit: a check code that is not one (or not the draft's:
    the round has not closed, 409), another province, fields missing or unknown."""
    good = {"province": PROVINCE, "reviewed_hash": "0" * 64}
    spoiled = _spoil_body(
        good,
        {
            "province": BAD_PROVINCE,
            "reviewed_hash": st.one_of(st.text(max_size=70), st.just("A" * 64), NOT_STR),
        },
        ["province", "reviewed_hash"],
    )
    url = "/v1/rounds/qd06-2019:2027/ministry-report"
    return spoiled.map(lambda body: BadRequest("POST", url, json=body))


def _bad_target() -> st.SearchStrategy[BadRequest]:
    """A province's target the administrator may not set: a share over 100 % or not over 0, years out of order or
    outside the standard's life, no plan, another province."""
    good = {"province": PROVINCE, "first_year": 2026, "last_year": 2030, "share_percent": 90, "plan": "KH 1/KH-UBND"}
    spoiled = _spoil_body(
        good,
        {
            "province": BAD_PROVINCE,
            "first_year": st.one_of(st.integers(max_value=2009), st.integers(min_value=2101), NOT_NUMBER),
            "last_year": st.one_of(st.integers(min_value=2000, max_value=2025), NOT_NUMBER),
            "share_percent": st.one_of(
                st.floats(min_value=100.0001, max_value=1e9), st.floats(max_value=0, allow_infinity=False), NOT_NUMBER
            ),
            "plan": st.one_of(st.just(""), st.text(min_size=301, max_size=320), NOT_STR),
            "reason": BAD_REASON,
        },
        ["province", "first_year", "last_year", "share_percent", "plan"],
    )
    return spoiled.map(lambda body: BadRequest("PUT", "/v1/targets", json=body))


def _absence_fuzz(
    reg: Parked, nobody: st.SearchStrategy[str], bad_id: st.SearchStrategy[Any]
) -> dict[tuple[str, str], st.SearchStrategy[BadRequest]]:
    """Leaves: the officer's, with their council's chair as deputy (who does not hold the officer's role: refused
    even unspoiled), the officer as their own deputy, days that are not days or in the wrong order; ending a leave
    that does not exist."""
    officer, chair = reg.officials[Role.COMMUNE_OFFICER], reg.officials[Role.COUNCIL_CHAIR]
    today = today_vn()
    good = {"province": PROVINCE, "deputy_id": chair, "starts_on": today.isoformat(), "ends_on": today.isoformat()}
    leaves = f"/v1/officials/{officer}/absences"
    spoiled = _spoil_body(
        good,
        {
            "province": BAD_PROVINCE,
            "deputy_id": st.one_of(bad_id, nobody, st.just(officer)),
            "starts_on": NOT_DATE,
            "ends_on": st.one_of(NOT_DATE, st.just((today - timedelta(days=1)).isoformat())),
            "reason": BAD_REASON,
        },
        ["province", "deputy_id", "starts_on", "ends_on"],
    )
    ids = st.one_of(
        st.integers(max_value=0).map(str),
        st.integers(min_value=2**53).map(str),
        st.integers(min_value=10**9, max_value=2**53 - 1).map(str),  # no such leave: 404
    )
    return {
        ("POST", "/v1/officials/{official_id}/absences"): st.one_of(
            spoiled.map(lambda body: BadRequest("POST", leaves, json=body)),
            nobody.map(lambda o: BadRequest("POST", f"/v1/officials/{quote(o)}/absences", json=good)),
        ),
        ("POST", "/v1/officials/{official_id}/absences/{absence_id}/end"): st.one_of(
            _spoil_body({"reason": "đi làm lại"}, {"ends_on": NOT_DATE, "reason": BAD_REASON}, []).map(
                lambda body: BadRequest("POST", f"{leaves}/1/end", json=body)
            ),
            ids.map(lambda a: BadRequest("POST", f"{leaves}/{a}/end", json={})),
        ),
    }


async def assignment_ids(sessions: async_sessionmaker[AsyncSession], officials: dict[Role, str]) -> dict[Role, int]:
    """The assignment of each of these officials (seeded with one role each)."""
    async with sessions() as session:
        rows = await session.execute(
            select(RoleAssignmentRow.official_id, RoleAssignmentRow.id).where(
                RoleAssignmentRow.official_id.in_(list(officials.values()))
            )
        )
        found = {official_id: aid for official_id, aid in rows}
    return {role: found[oid] for role, oid in officials.items()}


def route_fuzz(
    parked: dict[Stage, Parked], held: dict[Role, int]
) -> dict[tuple[str, str], st.SearchStrategy[BadRequest] | None]:
    """A strategy of bad requests for every mutating route (None: the route takes no input at all)."""
    reg = parked[Stage.REGISTRATION]
    now = datetime.now(UTC)

    def complete(stage: Stage) -> st.SearchStrategy[BadRequest]:
        p = parked[stage]
        return bad_form(stage).map(
            lambda body: BadRequest(
                "POST", f"/v1/tasks/{p.task_id}/complete", json=body, role=ROLE_OF_STAGE[stage], parked=stage
            )
        )

    def web_submit(stage: Stage) -> st.SearchStrategy[BadRequest]:
        p = parked[stage]
        fields = st.dictionaries(
            st.sampled_from(sorted(WEB_FIELDS[stage])) | st.text(min_size=1, max_size=12).map(lambda s: "score-" + s),
            TEXT_NO_NUL.filter(lambda v: len(v) < 200),
            max_size=6,
        )
        return fields.filter(lambda f: _web_form_is_bad(stage, f)).map(
            lambda f: BadRequest(
                "POST", f"/web/tasks/{p.task_id}", form=f, role=ROLE_OF_STAGE[stage], parked=stage, web=True
            )
        )

    rounds_good = {"round_id": "qd06-2019:2027", "province": PROVINCE}
    return {
        ("POST", "/v1/tasks/{task_id}/complete"): st.one_of(
            *(complete(s) for s in HUMAN_STAGES),
            GARBAGE_ID.map(
                lambda t: BadRequest(
                    "POST",
                    f"/v1/tasks/{quote(t)}/complete",
                    json=form_for(Stage.REGISTRATION),
                    role=Role.COMMUNE_OFFICER,
                )
            ),
        ),
        ("POST", "/v1/cases/{case_id}/withdraw"): st.one_of(
            _spoil_body({"reason": "sáp nhập"}, {"reason": st.one_of(st.just(""), LONG, NOT_STR)}, ["reason"]).map(
                lambda b: BadRequest("POST", f"/v1/cases/{reg.case_id}/withdraw", json=b)
            ),
            GARBAGE_ID.map(lambda c: BadRequest("POST", f"/v1/cases/{quote(c)}/withdraw", json={"reason": "x"})),
        ),
        ("POST", "/v1/bulk/extend-due"): st.one_of(
            _bulk(
                "/v1/bulk/extend-due",
                {"add_working_days": 5},
                {
                    "add_working_days": st.one_of(st.integers(max_value=0), st.integers(min_value=121), NOT_INT),
                    "new_due_at": st.one_of(NOT_DATE, st.just((now + timedelta(days=9)).isoformat())),  # both given
                },
            ),
            st.one_of(
                st.just({}),
                st.integers(min_value=1, max_value=10**9).map(
                    lambda sec: {"new_due_at": (now - timedelta(seconds=sec)).isoformat()}
                ),
                st.datetimes(min_value=datetime(2030, 1, 1), max_value=datetime(2200, 1, 1)).map(
                    lambda d: {"new_due_at": d.isoformat()}
                ),
            ).map(
                lambda extra: BadRequest(
                    "POST",
                    "/v1/bulk/extend-due",
                    json={"filter": {"province": PROVINCE}, "dry_run": False, "reason": "x", **extra},
                )
            ),
        ),
        ("POST", "/v1/bulk/reassign"): st.one_of(
            _bulk(
                "/v1/bulk/reassign",
                {"official_id": reg.officials[Role.COMMUNE_OFFICER]},
                {
                    "official_id": st.one_of(
                        st.just(""),
                        NOT_STR,
                        st.text(min_size=1, max_size=30).filter(lambda s: not s[:1].isalnum() or "/" in s or " " in s),
                    ),
                },
            ),
            st.from_regex(r"\Anobody-[a-z0-9]{1,12}\Z").map(
                lambda o: BadRequest(
                    "POST",
                    "/v1/bulk/reassign",
                    json={"filter": {"province": PROVINCE}, "dry_run": False, "reason": "x", "official_id": o},
                )
            ),
        ),
        ("POST", "/v1/bulk/remind"): _bulk("/v1/bulk/remind", {}, {}),
        ("POST", "/v1/bulk/hold"): _bulk("/v1/bulk/hold", {}, {}),
        ("POST", "/v1/bulk/release"): _bulk("/v1/bulk/release", {}, {}),
        ("POST", "/v1/me/notifications/read"): _spoil_body(
            {"ids": ["ntf_x"]},
            {
                "ids": st.one_of(
                    st.just([]),
                    st.lists(st.just("ntf_x"), min_size=501, max_size=510),
                    NOT_LIST,
                    st.lists(st.text(max_size=10).filter(lambda s: not s[:1].isalnum()), min_size=1, max_size=3),
                )
            },
            ["ids"],
        ).map(lambda b: BadRequest("POST", "/v1/me/notifications/read", json=b, role=Role.COMMUNE_OFFICER)),
        ("POST", "/v1/rounds"): _spoil_body(
            rounds_good,
            {
                "round_id": st.one_of(
                    NOT_STR,
                    st.text(max_size=20).filter(lambda s: ":" not in s),
                    st.sampled_from(["qd99-2000:2027", "qd06-2019:2025", "qd06-2019:1999"]),
                ),
                "province": st.one_of(NOT_STR, st.text(max_size=4).filter(lambda s: not (len(s) == 2 and s.isdigit()))),
                "target_share": st.one_of(
                    st.floats(min_value=1.0001, max_value=1e9),
                    st.floats(max_value=-0.0001, min_value=-1e9),
                    NOT_INT.filter(lambda v: not isinstance(v, float)),
                ),
            },
            ["round_id", "province"],
        )
        .filter(
            lambda b: (
                not (
                    isinstance(b, dict)
                    and b.get("round_id") == "qd06-2019:2027"
                    and b.get("province") == PROVINCE
                    and set(b) <= {"round_id", "province", "target_share"}
                    and isinstance(b.get("target_share", 0.5), (int, float))
                    and not isinstance(b.get("target_share"), bool)
                    and 0 <= b.get("target_share", 0.5) <= 1
                )
            )
        )
        .map(lambda b: BadRequest("POST", "/v1/rounds", json=b)),
        ("POST", "/v1/audit/cases/{case_id}/replay"): GARBAGE_ID.map(
            lambda c: BadRequest("POST", f"/v1/audit/cases/{quote(c)}/replay", role=Role.AUDITOR)
        ),
        ("POST", "/v1/audit/cases/{case_id}/archive"): GARBAGE_ID.map(
            lambda c: BadRequest("POST", f"/v1/audit/cases/{quote(c)}/archive", role=Role.AUDITOR)
        ),
        ("POST", "/web/signin"): st.one_of(
            st.just(""),
            st.text(max_size=80).filter(lambda s: "\x00" not in s),
            st.just("not.a.jwt"),
        ).map(lambda t: BadRequest("POST", "/web/signin", form={"token": t}, role=None)),
        ("POST", "/web/signout"): None,  # takes no input: it only clears the sign-in cookie
        ("POST", "/web/cases/{case_id}/replay"): st.one_of(
            GARBAGE_ID.map(
                lambda c: BadRequest("POST", f"/web/cases/{quote(c)}/replay", form={}, role=Role.AUDITOR, web=True)
            ),
            TEXT_NO_NUL.map(
                lambda c: BadRequest("POST", f"/web/cases/{reg.case_id}/replay", form={"csrf": c}, role=Role.AUDITOR)
            ),
        ),
        ("POST", "/web/tasks/{task_id}/preview"): st.one_of(
            GARBAGE_ID.map(
                lambda t: BadRequest(
                    "POST", f"/web/tasks/{quote(t)}/preview", form={}, role=Role.COMMUNE_OFFICER, web=True
                )
            ),
            TEXT_NO_NUL.map(
                lambda c: BadRequest(
                    "POST", f"/web/tasks/{reg.task_id}/preview", form={"csrf": c}, role=Role.COMMUNE_OFFICER
                )
            ),
        ),
        # (a registration form is never bad on the web: an unticked box is a decline)
        ("POST", "/web/tasks/{task_id}"): st.one_of(*(web_submit(s) for s in HUMAN_STAGES[1:])),
        ("POST", "/web/bulk/extend-due"): st.one_of(
            st.fixed_dictionaries({"reason": st.just(""), "add_working_days": st.just("5")}),
            st.fixed_dictionaries(
                {"reason": st.just("x"), "add_working_days": st.sampled_from(["0", "-3", "121", "9999"])}
            ),
            st.fixed_dictionaries(
                {
                    "reason": st.just("x"),
                    "add_working_days": st.just("5"),
                    "stage": st.text(min_size=1, max_size=10).filter(lambda s: s not in set(Stage) and "\x00" not in s),
                }
            ),
            st.fixed_dictionaries(
                {
                    "reason": st.just("x"),
                    "add_working_days": st.just("5"),
                    "unit": st.text(min_size=1, max_size=8).filter(
                        lambda s: not (len(s.strip()) == 5 and s.strip().isdigit()) and s.strip() and "\x00" not in s
                    ),
                }
            ),
            st.fixed_dictionaries(
                {
                    "reason": st.just("x"),
                    "add_working_days": st.just("5"),
                    "province": st.text(min_size=1, max_size=4).filter(
                        lambda s: not (len(s) == 2 and s.isdigit()) and "\x00" not in s
                    ),
                }
            ),
        ).map(lambda f: BadRequest("POST", "/web/bulk/extend-due", form={**f, "apply": "yes"}, web=True)),
        **_officials_fuzz(parked, held),
        ("POST", "/web/rounds/{round_id}/ministry-report"): st.fixed_dictionaries(
            {
                "province": st.one_of(st.just(PROVINCE), st.text(max_size=4).filter(lambda s: "\x00" not in s)),
                "reviewed_hash": st.one_of(st.just("0" * 64), st.text(max_size=70).filter(lambda s: "\x00" not in s)),
            }
        ).map(lambda f: BadRequest("POST", "/web/rounds/qd06-2019:2027/ministry-report", form=f, web=True)),
    }


WEB_FIELDS: dict[Stage, set[str]] = {
    Stage.REGISTRATION: {"registered", "note"},
    Stage.SELF_ASSESSMENT: {"score-1", "score-2", "source-1", "source-99"},
    Stage.COUNCIL_ASSESSMENT: {"score-1", "meeting_date", "minutes_ref", "members", "objection_answers"},
    Stage.PUBLIC_POSTING: {"posted_from", "posted_to", "place", "objections"},
    Stage.DOSSIER_SUBMISSION: {"doc-request_letter", "doc-assessment_report"},
    Stage.APPRAISAL: {"outcome", "findings", "missing"},
    Stage.DECISION: {"recognised", "decision_number", "decision_date", "reasons"},
    Stage.COMMENDATION: {"awarded", "decision_number", "decision_date", "reasons"},
}


def _web_form_is_bad(stage: Stage, form: dict[str, str]) -> bool:
    """Whether the form, as web/payloads.py turns it into a payload, must be refused (so that the fuzz sends only
    bad ones): registration with nothing to say is a valid decline, the rest lack required fields."""
    from domain.forms import FormContext, FormError, parse_form
    from domain.procedure import load_profile
    from web.payloads import payload_for

    ctx = FormContext(
        rule_set=RULE_SET,
        locality_type=LocalityType.OTHER,
        posting_working_days=load_profile("two-tier").posting_working_days,
        council_scores={c.number: c.max_points for c in RULE_SET.criteria},
    )
    try:
        parse_form(stage, payload_for(stage, form), ctx)
    except FormError:
        return True
    return False


# -- the access matrix: every role × every route × own unit / other unit / other province ---------------------------
PLACEMENTS = ("own", "other_unit", "other_province")
# and the sign-in provider's pages, /web/oidc/…; /metrics is for machines: loopback or its token (api/metrics.py)
PUBLIC = ("/", "/healthz", "/readyz", "/metrics", "/web/signin", "/web/signout")


def scope_for(role: Role, placement: str, unit: str, other_unit: str) -> RoleScope:
    """own: the role over the case's unit (a commune role) or its province (the others); other unit: the role over
    another unit of the province (a narrower assignment, for a province role); other province: the role there."""
    if placement == "own":
        return RoleScope(role=role, province_code=PROVINCE, unit_code=unit if role in UNIT_ROLES else None)
    if placement == "other_unit":
        return RoleScope(role=role, province_code=PROVINCE, unit_code=other_unit)
    return RoleScope(role=role, province_code=OTHER_PROVINCE, unit_code=None)


Oracle = Callable[[list[RoleScope], str], bool]  # (scopes, the case's unit) → may the official do it


def reads(scopes: list[RoleScope], unit: str) -> bool:
    return may_read(scopes, unit, PROVINCE)


def acts_as(role: Role) -> Oracle:
    return lambda scopes, unit: may_act(scopes, role, unit, PROVINCE)


def audits(scopes: list[RoleScope], unit: str) -> bool:
    return may_read([s for s in scopes if s.role in (Role.AUDITOR, Role.ADMIN)], unit, PROVINCE)


def oversees(scopes: list[RoleScope], unit: str) -> bool:
    return may_act(scopes, Role.ADMIN, unit, PROVINCE) or may_act(scopes, Role.AUDITOR, unit, PROVINCE)


def anyone(scopes: list[RoleScope], unit: str) -> bool:
    return True


def nobody(scopes: list[RoleScope], unit: str) -> bool:
    return False


def _elsewhere(scopes: list[RoleScope], roles: set[Role]) -> bool:
    return any(s.role in roles and s.unit_code is None and s.province_code != PROVINCE for s in scopes)


def oversees_elsewhere(scopes: list[RoleScope], unit: str) -> bool:
    """An administrator or auditor of another province: an official of the case's province is not theirs to see."""
    return _elsewhere(scopes, {Role.ADMIN, Role.AUDITOR})


def administers_elsewhere(scopes: list[RoleScope], unit: str) -> bool:
    """An administrator of another province: an official of the case's province is not theirs to write."""
    return _elsewhere(scopes, {Role.ADMIN})


@dataclass(frozen=True)
class MatrixRoute:
    """A route as the matrix calls it. `private`: refused callers who cannot read the case get 404 (its existence is
    private), others 403. `absent`, instead: refused callers it admits get 404 (what the route names lies outside
    their provinces), others 403. `listing`: nobody is refused; the case shows exactly to those the oracle admits.
    `case`: which of the matrix's cases the route acts on (writes get one each). `files`: a multipart upload."""

    method: str
    path: str  # the app's route path
    url: str  # with {case}, {task} to fill
    oracle: Oracle
    private: bool = False
    listing: bool = False
    json: Any = None
    form: dict[str, str] | None = None
    case: str = "read"
    allowed_status: tuple[int, ...] = (200,)
    absent: Oracle | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None

    @property
    def writes(self) -> bool:
        return self.method in MUTATING and not (isinstance(self.json, dict) and self.json.get("dry_run") is True)

    def refusal(self, scopes: list[RoleScope], unit: str) -> int:
        """The status a refused caller gets."""
        if self.absent is not None:
            return 404 if self.absent(scopes, unit) else 403
        return 404 if self.private and not reads(scopes, unit) else 403


def matrix_routes(round_id: str) -> list[MatrixRoute]:
    from tests.faults.abuse_whatif import whatif_routes  # here: it needs MatrixRoute from this module

    dry = {"dry_run": True, "reason": "kiểm tra quyền", "filter": {"province": PROVINCE}}
    officer = acts_as(Role.COMMUNE_OFFICER)  # the registration task's role
    admin = acts_as(Role.ADMIN)
    r = MatrixRoute
    return [
        r("GET", "/v1/me", "/v1/me", anyone),
        r("GET", "/v1/me/notifications", "/v1/me/notifications", anyone),
        r("POST", "/v1/me/notifications/read", "/v1/me/notifications/read", anyone, json={"ids": ["ntf_none"]}),
        r("GET", "/v1/tasks", "/v1/tasks?mine=false", reads, listing=True),
        r("GET", "/v1/tasks", "/v1/tasks?mine=true", officer, listing=True),
        r("GET", "/v1/tasks/{task_id}", "/v1/tasks/{task}", reads, private=True),
        r("GET", "/v1/cases/{case_id}", "/v1/cases/{case}", reads, private=True),
        r("GET", "/v1/cases/{case_id}/timeline", "/v1/cases/{case}/timeline", reads, private=True),
        r("GET", "/v1/audit/cases/{case_id}/verify", "/v1/audit/cases/{case}/verify", audits, private=True),
        r("GET", "/v1/audit/cases/{case_id}/export", "/v1/audit/cases/{case}/export", audits, private=True),
        r("POST", "/v1/audit/cases/{case_id}/replay", "/v1/audit/cases/{case}/replay", audits, private=True),
        r("POST", "/v1/audit/cases/{case_id}/archive", "/v1/audit/cases/{case}/archive", audits, private=True),
        r("GET", "/v1/board", f"/v1/board?province={PROVINCE}&failing=false", oversees),
        r(
            "GET",
            "/v1/audit/rounds/{round_id}/event-log",
            f"/v1/audit/rounds/{round_id}/event-log?province={PROVINCE}&format=xes",
            oversees,
        ),
        r("GET", "/v1/rounds/{round_id}/progress", f"/v1/rounds/{round_id}/progress?province={PROVINCE}", oversees),
        r("GET", "/v1/rounds/{round_id}/report", f"/v1/rounds/{round_id}/report?province={PROVINCE}", oversees),
        r(
            "GET",
            "/v1/rounds/{round_id}/stage-times",
            f"/v1/rounds/{round_id}/stage-times?province={PROVINCE}",
            oversees,
        ),
        # the draft decision: 409 while the matrix's round has no unit recognised, past the same gate as the report
        r(
            "GET",
            "/v1/rounds/{round_id}/decision",
            f"/v1/rounds/{round_id}/decision?province={PROVINCE}&format=docx",
            oversees,
            allowed_status=(200, 409),
        ),
        *ministry_routes(round_id),
        *past_rounds_routes(),
        *whatif_routes(round_id),
        r("POST", "/v1/bulk/extend-due", "/v1/bulk/extend-due", admin, json={**dry, "add_working_days": 5}),
        r("POST", "/v1/bulk/reassign", "/v1/bulk/reassign", admin, json={**dry, "official_id": "{officer}"}),
        r("POST", "/v1/bulk/remind", "/v1/bulk/remind", admin, json=dry),
        r("POST", "/v1/bulk/hold", "/v1/bulk/hold", admin, json=dry),
        r("POST", "/v1/bulk/release", "/v1/bulk/release", admin, json=dry),
        # an unknown rule set: the gate is passed (or not) before the round id is read
        r(
            "POST",
            "/v1/rounds",
            "/v1/rounds",
            admin,
            json={"round_id": "qd99-2000:2027", "province": PROVINCE},
            allowed_status=(422,),
        ),
        r("GET", "/web/tasks", "/web/tasks", officer, listing=True),
        r("GET", "/web/tasks/{task_id}", "/web/tasks/{task}", reads, private=True),
        r("GET", "/web/cases/{case_id}", "/web/cases/{case}", reads, private=True),
        r("GET", "/web/cases/{case_id}/export", "/web/cases/{case}/export", audits, private=True),
        r("POST", "/web/cases/{case_id}/replay", "/web/cases/{case}/replay", audits, private=True, form={}),
        r("GET", "/web/board", f"/web/board?province={PROVINCE}", oversees),
        r("GET", "/web/rounds/{round_id}", f"/web/rounds/{round_id}?province={PROVINCE}", oversees),
        r(
            "GET",
            "/web/rounds/{round_id}/stage-times",
            f"/web/rounds/{round_id}/stage-times?province={PROVINCE}",
            oversees,
        ),
        r(
            "GET",
            "/web/rounds/{round_id}/report.xlsx",
            f"/web/rounds/{round_id}/report.xlsx?province={PROVINCE}",
            oversees,
        ),
        r(
            "GET",
            "/web/rounds/{round_id}/decision.{fmt}",
            f"/web/rounds/{round_id}/decision.pdf?province={PROVINCE}",
            oversees,
            allowed_status=(200, 409),
        ),
        r("POST", "/web/tasks/{task_id}/preview", "/web/tasks/{task}/preview", reads, private=True, form={}),
        r(
            "POST",
            "/web/bulk/extend-due",
            "/web/bulk/extend-due",
            admin,
            form={"reason": "kiểm tra", "add_working_days": "5", "province": PROVINCE},
        ),
        # the writes: each on a case of its own
        r(
            "POST",
            "/v1/bulk/hold",
            "/v1/bulk/hold",
            admin,
            case="bulk",
            json={"dry_run": False, "reason": "kiểm tra", "filter": {"province": PROVINCE, "case_ids": ["{case}"]}},
        ),
        r(
            "POST",
            "/v1/tasks/{task_id}/complete",
            "/v1/tasks/{task}/complete",
            officer,
            private=True,
            json={"registered": True},
            case="complete",
        ),
        r(
            "POST",
            "/web/tasks/{task_id}",
            "/web/tasks/{task}",
            officer,
            private=True,
            form={"registered": "yes"},
            case="web_complete",
            allowed_status=(303,),
        ),
        r(
            "POST",
            "/v1/cases/{case_id}/withdraw",
            "/v1/cases/{case}/withdraw",
            admin,
            private=True,
            json={"reason": "sáp nhập đơn vị"},
            case="withdraw",
        ),
        *officials_routes(),
    ]


# A dry run of the import: the per-row report, nothing written.
IMPORT_PROBE = {
    "file": (
        "can-bo.csv",
        _sheet(["ma_can_bo", "ho_ten", "vai_tro"], [["m-nhap-thu", "Nguyễn Văn Thử", "auditor"]]),
        "text/csv",
    )
}


def past_rounds_routes() -> list[MatrixRoute]:
    """Past rounds (docs/history.md): imported by the province's administrators (a dry run here), listed by its
    administrators and auditors; a unit's predecessors read by whoever may read the unit (else it is absent)."""
    url = f"/v1/provinces/{PROVINCE}/past-rounds"
    probe = {"file": ("ky-truoc.csv", _sheet(PAST_HEADER, [["99999", "", "2022", "1/QĐ", "20/12/2022"]]), "text/csv")}
    return [
        MatrixRoute("GET", "/v1/provinces/{code}/past-rounds", url, oversees),
        MatrixRoute("POST", "/v1/provinces/{code}/past-rounds", f"{url}?apply=false", acts_as(Role.ADMIN), files=probe),
        MatrixRoute("GET", "/v1/units/{code}/lineage", "/v1/units/{unit}/lineage", reads, private=True),
    ]


def officials_routes() -> list[MatrixRoute]:
    """The directory (docs/officials.md): read by the province's administrators and auditors (the API and the page),
    written by its administrators; an official outside the caller's provinces is answered as absent. The writes act
    on the officials of a case of their own (`{officer}`, its unit's commune officer, and `{chair}`, its council's
    chair)."""
    admin = acts_as(Role.ADMIN)
    r = MatrixRoute
    q = f"province={PROVINCE}"
    one = "/v1/officials/{official_id}"
    roles = "/v1/officials/{official_id}/roles"
    return [
        r("GET", "/v1/officials", f"/v1/officials?{q}", oversees),
        r("GET", one, "/v1/officials/{officer}", oversees, absent=oversees_elsewhere),
        r("GET", "/v1/officials/journal", f"/v1/officials/journal?{q}", oversees),
        r("GET", "/v1/officials/journal/verify", f"/v1/officials/journal/verify?{q}", oversees),
        r("GET", "/v1/officials/coverage", f"/v1/officials/coverage?{q}", oversees),
        r("GET", "/web/officials", f"/web/officials?{q}", oversees),
        r("POST", "/v1/officials/import", f"/v1/officials/import?{q}&apply=false", admin, files=IMPORT_PROBE),
        # An administrator of another province giving a role there, unknown: the official is not theirs (404),
        # whatever the role (it is checked only once the caller may write the official).
        r(
            "POST",
            roles,
            "/v1/officials/{officer}/roles",
            nobody,
            absent=administers_elsewhere,
            json={"province": OTHER_PROVINCE, "role": "thủ tướng"},
        ),
        # the writes
        r(
            "POST",
            "/v1/officials",
            "/v1/officials",
            admin,
            case="officials",
            allowed_status=(201,),
            json={
                "id": "{officer}-moi",
                "province": PROVINCE,
                "full_name": "Trần Thị Kiểm",
                "roles": [{"role": "commune_officer", "unit_code": "{unit}"}],
            },
        ),
        r(
            "PATCH",
            one,
            "/v1/officials/{officer}",
            admin,
            absent=administers_elsewhere,
            case="officials",
            json={"position_title": "Công chức Văn hóa - Xã hội"},
        ),
        r(
            "POST",
            roles,
            "/v1/officials/{officer}/roles",
            admin,
            case="officials",
            allowed_status=(201,),
            json={"province": PROVINCE, "role": "commune_chairman", "unit_code": "{unit}"},
        ),
        r(
            "POST",
            f"{roles}/{{assignment_id}}/end",
            "/v1/officials/{officer}/roles/{assignment}/end",
            admin,
            absent=administers_elsewhere,
            case="officials",
            json={"reason": "hết nhiệm kỳ"},
        ),
        r(
            "POST",
            f"{one}/deactivate",
            "/v1/officials/{chair}/deactivate",
            admin,
            absent=administers_elsewhere,
            case="officials",
            json={"reason": "chuyển công tác"},
        ),
        *leave_routes(),
        r("GET", "/v1/targets", f"/v1/targets?province={PROVINCE}", oversees),
        r(
            "PUT",
            "/v1/targets",
            "/v1/targets",
            admin,
            case="targets",
            json={"province": PROVINCE, "first_year": 2026, "last_year": 2030, "share_percent": 90, "plan": "KH 1"},
        ),
    ]


def ministry_routes(round_id: str) -> list[MatrixRoute]:
    """The report to the ministry: read by the province's overseers (the round has not closed: no draft to submit,
    so an administrator's submission is refused 409 and writes nothing); the national report by none of the
    province's roles (the ministry's role is national, outside the matrix's scopes)."""
    report = f"/v1/rounds/{round_id}/ministry-report"
    r = MatrixRoute
    submit = {"province": PROVINCE, "reviewed_hash": "0" * 64}
    return [
        r("GET", "/v1/rounds/{round_id}/ministry-report", f"{report}?province={PROVINCE}", oversees),
        r(
            "POST",
            "/v1/rounds/{round_id}/ministry-report",
            report,
            acts_as(Role.ADMIN),
            case="targets",
            json=submit,
            allowed_status=(409,),
        ),
        r(
            "GET",
            "/v1/rounds/{round_id}/ministry-report/verify",
            f"{report}/verify?province={PROVINCE}",
            oversees,
            allowed_status=(404,),
        ),
        r("GET", "/v1/national/rounds/{round_id}", f"/v1/national/rounds/{round_id}", nobody),
        r("GET", "/web/rounds/{round_id}/ministry-report", f"/web{report[3:]}?province={PROVINCE}", oversees),
        r(
            "POST",
            "/web/rounds/{round_id}/ministry-report",
            f"/web{report[3:]}",
            acts_as(Role.ADMIN),
            case="targets",
            form={"province": PROVINCE, "reviewed_hash": "0" * 64},
            allowed_status=(409,),
        ),
        r("GET", "/web/national", f"/web/national?round={round_id}", nobody),
    ]


def leave_routes() -> list[MatrixRoute]:
    """Leaves, on a case of their own: read like an official, recorded and ended by the province's administrators.
    The officer's leave names the matrix's other commune officer of the unit as deputy (`{deputy}`); the leave
    ended is the council chair's, recorded beforehand (`{absence}`, matrix_context)."""
    admin = acts_as(Role.ADMIN)
    r = MatrixRoute
    leaves = "/v1/officials/{official_id}/absences"
    today = today_vn().isoformat()
    body = {"province": PROVINCE, "deputy_id": "{deputy}", "starts_on": today, "ends_on": today}
    return [
        r("GET", leaves, "/v1/officials/{officer}/absences", oversees, absent=oversees_elsewhere),
        r("POST", leaves, "/v1/officials/{officer}/absences", admin, case="leave", allowed_status=(201,), json=body),
        r(
            "POST",
            f"{leaves}/{{absence_id}}/end",
            "/v1/officials/{chair}/absences/{absence}/end",
            admin,
            absent=administers_elsewhere,
            case="leave",
            json={"reason": "đi làm lại"},
        ),
    ]


async def matrix_context(sessions: async_sessionmaker[AsyncSession], parked: Parked, name: str) -> dict[str, str]:
    """What the matrix's URLs and bodies name of a case: the case, its task and unit, its officials, the commune
    officer's assignment; a deputy for the officer (the matrix's own commune officer of the unit, `_matrix_case`),
    and a leave of the council chair, recorded here (`absence`)."""
    held = await assignment_ids(sessions, parked.officials)
    unit, chair = parked.unit_code, parked.officials[Role.COUNCIL_CHAIR]
    async with sessions() as session, session.begin():
        leave = AbsenceRow(
            official_id=chair,
            deputy_id=f"m-{name}-{Role.COUNCIL_CHAIR.value}-own-{unit}",
            province_code=PROVINCE,
            starts_on=today_vn(),
            ends_on=today_vn() + timedelta(days=5),
            created_at=datetime.now(UTC),
        )
        session.add(leave)
        await session.flush()
        absence = leave.id
    return {
        "case": parked.case_id,
        "task": parked.task_id,
        "unit": unit,
        "officer": parked.officials[Role.COMMUNE_OFFICER],
        "chair": chair,
        "assignment": str(held[Role.COMMUNE_OFFICER]),
        "deputy": f"m-{name}-{Role.COMMUNE_OFFICER.value}-own-{unit}",
        "absence": str(absence),
    }


def fill(value: Any, ctx: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ctx) if "{" in value else value
    if isinstance(value, dict):
        return {k: fill(v, ctx) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ctx) for v in value]
    return value


# -- a non-deterministic edit of the case workflow ------------------------------------------------------------------
@workflow.defn(name="RecognitionCaseWorkflow", sandboxed=False)
class SleepsFirstRecognitionCaseWorkflow(RecognitionCaseWorkflow):
    """The real workflow with one careless edit: a pause before the case opens (a timer no recorded history holds,
    where every history's first command is the opening's projection)."""

    @workflow.run
    async def run(self, inp: StartCaseInput) -> CaseResult:
        await workflow.sleep(timedelta(seconds=1))
        return await super().run(inp)
