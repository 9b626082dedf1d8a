"""Test helpers: valid forms for every stage, the running stack (worker + HTTP API on a real port), seeding, and
the test key that vouches for the actor of an Update a test sends straight to Temporal."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import sys
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from activities.archive import HistoryArchive
from activities.case_store import CaseStore
from activities.directory import DirectoryTasks
from activities.round_store import RoundStore
from contracts import (
    Acting,
    Actor,
    CompleteTaskInput,
    ExtendDueInput,
    HoldInput,
    NudgeInput,
    ReassignInput,
    ReleaseInput,
    StartCaseInput,
    WithdrawInput,
)
from domain.actor_assertion import parse_key_ring, target_of
from domain.calendar import local_date
from domain.case import case_id_for
from domain.rounds import parse_round
from domain.rulesets import load_rule_set
from domain.stages import LocalityType, Role, Stage
from domain.units import load_units
from infra.settings import Settings
from infra.stack import serve_app
from infra.tokens import issue_token, utcnow
from services.access import actor_for, signed, use_actor_keys
from services.rounds.opening import ensure_round, start_case
from services.seed import DemoOfficial, demo_officials, seed_officials, seed_units
from worker import build_worker
from workflows import actor_keys
from workflows.registry import audit_activities, case_activities, directory_activities, round_activities

PROVINCE = "33"  # Hưng Yên
ROUND_ID = "qd06-2019:2027"
SECRET = "test-secret-" + "x" * 32
# The actor key ring of every test: the services sign with it, the workers of this process check with it (set
# here, on import: every test that runs a worker or sends an Update imports this module), and the stacks the tests
# start as processes get it as XPTT_ACTOR_KEYS.
ACTOR_KEYS = "test-k1:" + "k" * 40
ACTOR_RING = parse_key_ring(ACTOR_KEYS)
use_actor_keys(ACTOR_RING)
actor_keys.install(ACTOR_RING)


# Each human stage of a case that goes all the way, with the role that completes it.
HUMAN_PATH = [
    (Stage.REGISTRATION, Role.COMMUNE_OFFICER),
    (Stage.SELF_ASSESSMENT, Role.COMMUNE_OFFICER),
    (Stage.COUNCIL_ASSESSMENT, Role.COUNCIL_CHAIR),
    (Stage.PUBLIC_POSTING, Role.COMMUNE_OFFICER),
    (Stage.DOSSIER_SUBMISSION, Role.COMMUNE_OFFICER),
    (Stage.APPRAISAL, Role.APPRAISER),
    (Stage.DECISION, Role.CHAIRMAN),
]


def full_scores(rule_set_id: str = "qd06-2019") -> dict[str, int]:
    """Every criterion at its maximum, as an official's JSON would carry it."""
    return {str(c.number): c.max_points for c in load_rule_set(rule_set_id).criteria}


def days_ago(n: int) -> str:
    """The day `n` days before today in Vietnam: a form names days that have passed (domain/form_dates.py)."""
    return (local_date(datetime.now(UTC)) - timedelta(days=n)).isoformat()


def form_for(stage: Stage, *, rule_set_id: str = "qd06-2019", **overrides: Any) -> dict[str, Any]:
    scores = full_scores(rule_set_id)
    forms: dict[Stage, dict[str, Any]] = {
        Stage.REGISTRATION: {"registered": True, "note": "UBND xã đăng ký phấn đấu"},
        Stage.SELF_ASSESSMENT: {"scores": scores, "sources": {"2": "Sổ hộ tịch 2027"}},
        Stage.COUNCIL_ASSESSMENT: {
            "scores": scores,
            "meeting_date": days_ago(40),
            "minutes_ref": "BB-01/HĐĐG",
            "members": ["Chủ tịch UBND xã", "Công chức VH-XH", "Trưởng Công an xã"],
        },
        Stage.PUBLIC_POSTING: {
            "posted_from": days_ago(35),
            "posted_to": days_ago(14),
            "place": "Trụ sở UBND xã",
            "objections": [],
        },
        Stage.DOSSIER_SUBMISSION: {
            "documents": [
                {"kind": "request_letter", "reference": "CV-12/UBND"},
                {"kind": "assessment_report", "reference": "BC-34/UBND"},
                {"kind": "data_explanation", "reference": "GT-2027"},
                {"kind": "council_minutes", "reference": "BB-01/HĐĐG"},
            ]
        },
        Stage.APPRAISAL: {"outcome": "accept", "findings": "Hồ sơ đầy đủ"},
        Stage.DECISION: {"recognised": True, "decision_number": "QĐ-123/UBND", "decision_date": days_ago(7)},
        Stage.COMMENDATION: {"awarded": True, "decision_number": "QĐ-KT-05/UBND", "decision_date": days_ago(0)},
    }
    return {**forms[stage], **overrides}


@dataclass
class Stack:
    """Worker + API over one database and one Temporal server, with a token per demo official."""

    client: Client
    sessions: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    task_queue: str
    unit_code: str
    officials: list[DemoOfficial]
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    async def start_case(self, unit_code: str | None = None, round_id: str = ROUND_ID) -> str:
        unit = unit_code or self.unit_code
        inp = StartCaseInput(
            case_id=case_id_for(round_id, unit),
            unit_code=unit,
            province_code=PROVINCE,
            round_id=round_id,
            rule_set_id=parse_round(round_id).rule_set_id,
            profile_id="two-tier",
            locality_type=LocalityType.OTHER,
        )
        await start_case(self.client, inp, task_queue=self.task_queue)
        return inp.case_id

    async def open_task(self, case_id: str, role: str, *, mine: bool = True, timeout: float = 10) -> dict[str, Any]:
        """Wait until the case's open task shows in the inbox of `role` (or, not `mine`, in its scope)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            resp = await self.http.get("/v1/tasks", params={"mine": str(mine).lower()}, headers=self.headers(role))
            resp.raise_for_status()
            found = [t for t in resp.json() if t["case_id"] == case_id]
            if found:
                return found[0]
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no open task of case {case_id} for {role} within {timeout} s")
            await asyncio.sleep(0.05)


# The tests of one module share one Temporal server (conftest.temporal_env), where a case id (round, unit) runs
# once: each stack takes units of its own from this pool, which starts afresh with each new server.
_UNITS = iter([u.code for u in load_units(PROVINCE)])


def fresh_unit() -> str:
    try:
        return next(_UNITS)
    except StopIteration:
        raise RuntimeError(
            f"the {len(load_units(PROVINCE))} units of province {PROVINCE} are all taken on this module's Temporal "
            "server: give the tests another module or reuse a unit where the test owns its server"
        ) from None


def renew_units() -> None:
    """A new Temporal server has none of the pool's cases: every unit is fresh again."""
    global _UNITS
    _UNITS = iter([u.code for u in load_units(PROVINCE)])


# A test whose Temporal server and database are its own (the time-skipping tests, the database-only tests) may
# reuse units: these repeat, and leave the shared pool above to the tests on the shared server.
_ISOLATED_UNITS = itertools.cycle([u.code for u in load_units(PROVINCE)])


def isolated_unit() -> str:
    return next(_ISOLATED_UNITS)


async def seed_reference(sessions: async_sessionmaker[AsyncSession], *, lineage: bool = True) -> None:
    """Provinces, the units of PROVINCE (with their predecessors unless not `lineage`) and the round; no officials
    (so nothing is notified)."""
    async with sessions() as session, session.begin():
        await seed_units(session, PROVINCE, lineage=lineage)
        await ensure_round(session, parse_round(ROUND_ID), "two-tier")


async def seed(
    sessions: async_sessionmaker[AsyncSession], unit: str | None = None, *, lineage: bool = True
) -> tuple[str, list[DemoOfficial]]:
    await seed_reference(sessions, lineage=lineage)
    async with sessions() as session, session.begin():
        unit = unit or fresh_unit()
        officials = demo_officials(PROVINCE, unit)
        await seed_officials(session, officials, PROVINCE)
    return unit, officials


# -- Updates sent straight to Temporal, vouched for by the test key through the services' own signing --------------
A = TypeVar("A", bound=Acting)
# Each Update (and the nudge signal) by name, with the input it takes.
INPUTS: dict[str, type[Acting]] = {
    m.UPDATE: m
    for m in (CompleteTaskInput, ExtendDueInput, ReassignInput, HoldInput, ReleaseInput, WithdrawInput, NudgeInput)
}


def sign(inp: A, case_id: str, *, update_id: str, at: datetime | None = None) -> A:
    """`inp` with its actor vouched for on case `case_id` as the Update sent with id `update_id` (a nudge: its own
    id), issued `at` (default now: a time-skipping test passes its server's time), by `services.access.signed` as
    the API would send it."""
    fields = {name: getattr(inp, name) for name in type(inp).model_fields if name != "actor"}
    return signed(inp.actor, case_id, type(inp), update_id=update_id, issued_at=at, **fields)


async def execute_signed(
    handle: WorkflowHandle[Any, Any],
    update: Any,
    inp: Acting,
    *,
    update_id: str | None = None,
    at: datetime | None = None,
) -> Any:
    """Send `inp` as Update `update` to the case `handle` names (its workflow id is the case's id), vouched for as
    the services vouch for it: under the update id it is sent with (`update_id`, else a fresh one)."""
    update_id = update_id or f"test-{uuid.uuid4()}"
    return await handle.execute_update(update, sign(inp, handle.id, update_id=update_id, at=at), id=update_id)


def sign_json(update: str, arg: Any, case_id: str, *, update_id: str, at: datetime | None = None) -> Any:
    """A raw JSON input of `update` (as any Temporal client could send it) with its actor vouched for as the Update
    sent with id `update_id` (a nudge: its own id), so that the case looks past the assertion at the rest. An input
    the Update's model cannot read is signed over its raw fields; one without a readable actor is left as it is (the
    SDK refuses it before the validator)."""
    if not isinstance(arg, dict) or not isinstance(arg.get("actor"), dict):
        return arg
    try:
        actor = Actor.model_validate(arg["actor"])
    except ValidationError:
        return arg
    try:
        model = INPUTS[update].model_validate(arg)
        target, content = model.target(), model.signed_content()
    except ValidationError:
        task_id = arg.get("task_id")
        target = target_of(update, task_id if isinstance(task_id, str) else None)
        content = {k: v for k, v in arg.items() if k != "actor"}
    try:
        vouched = actor_for(actor, case_id, target, content, update_id=update_id, issued_at=at)
    except ValueError:  # content JSON cannot carry (NaN): refused before the validator anyway
        return arg
    return {**arg, "actor": vouched.model_dump(mode="json")}


def token_for(official_id: str) -> str:
    return issue_token(official_id, secret=SECRET, issuer="xptt", now=utcnow(), ttl=timedelta(hours=1))


@contextlib.asynccontextmanager
async def running_stack(
    client: Client,
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
    *,
    settings: Mapping[str, str] | None = None,
    port: int | None = None,
) -> AsyncIterator[Stack]:
    """`settings`: more environment for the API (e.g. its OIDC sign-in); `port`: where it listens."""
    from api.main import create_app  # here, so that workflow tests do not need the API

    unit, officials = await seed(sessions)
    task_queue = f"test-{uuid.uuid4()}"
    worker: Worker = build_worker(
        client,
        task_queue,
        case_activities(CaseStore(sessions))
        + audit_activities(HistoryArchive(client, sessions))
        + round_activities(RoundStore(sessions))
        + directory_activities(DirectoryTasks(client, sessions)),
    )
    app_settings = Settings.model_validate(
        {"DATABASE_URL": database_url, "XPTT_JWT_SECRET": SECRET, "TEMPORAL_TASK_QUEUE": task_queue}
        | dict(settings or {})
    )
    app = create_app(app_settings, temporal=client)
    async with worker, serve_app(app, port=port) as base_url, httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        stack = Stack(client, sessions, http, task_queue, unit, officials)
        stack.tokens = {o.role.value: token_for(o.id) for o in officials}
        yield stack


XPTT = str(Path(sys.executable).with_name("xptt"))


async def xptt(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """`xptt ARGS` as a process: (exit code, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        XPTT,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **env, "COLUMNS": "250", "NO_COLOR": "1"},
    )
    out, err = await proc.communicate()
    return proc.returncode or 0, out.decode(), err.decode()
