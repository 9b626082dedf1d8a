"""Abuse and tamper (issue #10, scenarios 4–7), on the real stack: worker and HTTP API on loopback, a real Temporal
dev server, real PostgreSQL.

4. The same Update delivered twice, the same activity run twice (and retried after a failure half-way): one effect.
5. Fuzzed bad inputs (hypothesis) to every Update and every mutating route: all refused with a reason, no state
   change, no 5xx.
6. Every role × every route × own unit / other unit / other province: refused exactly where domain/access.py says no.
7. One altered audit row is named by verify; a non-deterministic workflow edit fails the replay of recorded histories.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from db.session import make_engine, make_session_factory
from domain.stages import Role, Stage
from tests.conftest import _admin_engine, with_database
from tests.faults.abuse_support import (
    ADMIN_UPDATES,
    HUMAN_STAGES,
    ROUTE_KEYS,
    BadRequest,
    Parked,
    bad_admin_update,
    bad_form,
    bad_nudge,
    handle_of,
    history_counts,
    mutating_routes,
    park,
    problem_of,
    route_fuzz,
    snapshot,
    wrong_scopes,
)
from tests.support import Stack, running_stack
from web.pages import TOKEN_COOKIE, csrf_of

QUICK = 25  # per Update and route: make test
FULL = 1000  # per Update and route: make faults
FUZZED_ROUTES = [r for r in ROUTE_KEYS if r != ("POST", "/web/signout")]


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@dataclass
class Abuse:
    stack: Stack
    parked: dict[Stage, Parked]
    routes: dict[tuple[str, str], Any]


@pytest.fixture(scope="module")
async def abuse(pg_server_url: str, template_database: str, temporal_env: WorkflowEnvironment) -> AsyncIterator[Abuse]:
    """One stack for the module's many examples, with a case parked at every human stage."""
    name = f"xptt_abuse_{uuid.uuid4().hex[:12]}"
    admin = await _admin_engine(pg_server_url)
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"'))
    url = with_database(pg_server_url, name)
    engine = make_engine(url, pool_size=5)
    try:
        async with running_stack(temporal_env.client, url, make_session_factory(engine)) as stack:
            parked = await asyncio.gather(*(park(stack, s) for s in HUMAN_STAGES))
            by_stage = {p.stage: p for p in parked}
            yield Abuse(stack, by_stage, route_fuzz(by_stage))
    finally:
        await engine.dispose()
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


# -- 5. fuzzed bad inputs --------------------------------------------------------------------------------------------
SCENARIO_5 = "5. fuzzed bad inputs to every Update and route: refused with a reason, no change, no 5xx"
UPDATE_TARGETS = [f"complete_task@{s.value}" for s in HUMAN_STAGES] + list(ADMIN_UPDATES)
ADMIN_REFUSALS = {"forbidden", "task_not_open", "invalid_payload", "not_on_hold"}
_TALLY: dict[str, Counter[str]] = {}


def _refusal_reason(cause: BaseException | None) -> tuple[str, str | None]:
    """The refusal's code and the field it names. The validator's own refusals carry a stable type (and a field for
    a bad payload); an input that does not even decode into the Update's model is refused by the SDK before the
    validator, and its cause names the model's field (pydantic's message)."""
    assert isinstance(cause, ApplicationError), cause
    assert cause.message, cause
    if cause.type == "RuntimeError" and cause.message == "Failed decoding arguments":
        inner = cause.cause
        assert isinstance(inner, ApplicationError) and inner.type == "ValidationError", inner
        assert "validation error for" in inner.message, inner.message
        return "undecodable", inner.message.splitlines()[1]
    assert cause.type and cause.type.islower(), (cause.type, cause.message)
    field = cause.details[0] if cause.details and isinstance(cause.details[0], str) else None
    if cause.type == "invalid_payload":
        assert field, f"invalid_payload without a field: {cause.message}"
    return cause.type, field


async def _fuzz_update(abuse: Abuse, target: str, data: st.DataObject) -> Counter[str]:
    name, _, stage_name = target.partition("@")
    parked = abuse.parked[Stage(stage_name) if stage_name else Stage.REGISTRATION]
    if name == "complete_task":
        payload = data.draw(bad_form(parked.stage), label="payload")
        actor = parked.actor()
        if data.draw(st.booleans(), label="wrong official"):
            actor = actor.model_copy(update={"scopes": data.draw(wrong_scopes(parked, actor.scopes[0].role))})
        arg: Any = {"task_id": parked.task_id, "actor": actor.model_dump(mode="json"), "payload": payload}
        allowed = {"invalid_payload", "forbidden", "undecodable"}
    else:
        arg = data.draw(bad_admin_update(name, parked), label=name)
        allowed = ADMIN_REFUSALS | {"undecodable"}
    handle = handle_of(abuse.stack.client, parked.case_id)
    before = await snapshot(abuse.stack.sessions), await history_counts(handle)
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await handle.execute_update(name, arg, id=f"fuzz-{uuid.uuid4()}")
    code, _ = _refusal_reason(info.value.cause)
    assert code in allowed, (code, info.value.cause)
    assert (await snapshot(abuse.stack.sessions), await history_counts(handle)) == before
    tally = _TALLY.setdefault(target, Counter())
    tally.update({"inputs": 1, "refused": 1, f"refused_{code}": 1})
    return tally


async def _settled(handle: Any, after: int, timeout: float = 10) -> list[Any]:
    """The history once the worker has taken every event after `after` (a workflow task completed or failed)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        events = [e async for e in handle.fetch_history_events()]
        tail = [e.event_type for e in events[after:]]
        if EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED in tail or (
            tail and tail[-1] == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
        ):
            return events
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"the worker did not take the events after {after}: {tail}")
        await asyncio.sleep(0.02)


async def _fuzz_nudge(abuse: Abuse, data: st.DataObject) -> Counter[str]:
    """The `nudge` signal is fire and forget: a bad one must be dropped, never break the case's workflow task."""
    parked = abuse.parked[Stage.REGISTRATION]
    arg = data.draw(bad_nudge(parked), label="nudge")
    handle = handle_of(abuse.stack.client, parked.case_id)
    before = await snapshot(abuse.stack.sessions)
    length = len([e async for e in handle.fetch_history_events()])
    await handle.signal("nudge", arg)
    events = await _settled(handle, length)
    failed = [e for e in events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED]
    assert not failed, failed[0].workflow_task_failed_event_attributes.failure.message
    assert await snapshot(abuse.stack.sessions) == before
    tally = _TALLY.setdefault("nudge", Counter())
    tally.update({"inputs": 1, "refused": 1, "refused_dropped": 1})
    return tally


@pytest.mark.scenario(SCENARIO_5)
@fuzz(QUICK)
@given(data=st.data())
async def test_fuzzed_nudges_are_dropped_quick(abuse: Abuse, data: st.DataObject, fault_report: Any) -> None:
    fault_report(target="Signal nudge", **_figures(await _fuzz_nudge(abuse, data)))


@pytest.mark.faults_full
@pytest.mark.scenario(SCENARIO_5)
@fuzz(FULL)
@given(data=st.data())
async def test_fuzzed_nudges_are_dropped_full(abuse: Abuse, data: st.DataObject, fault_report: Any) -> None:
    fault_report(target="Signal nudge", **_figures(await _fuzz_nudge(abuse, data)))


def _figures(tally: Counter[str]) -> dict[str, int]:
    return {"inputs": tally["inputs"], "refused": tally["refused"], "state_changes": 0, "server_errors": 0} | {
        k.removeprefix("refused_"): v for k, v in sorted(tally.items()) if k.startswith("refused_")
    }


@pytest.mark.scenario(SCENARIO_5)
@pytest.mark.parametrize("target", UPDATE_TARGETS)
@fuzz(QUICK)
@given(data=st.data())
async def test_fuzzed_updates_are_refused_quick(
    abuse: Abuse, target: str, data: st.DataObject, fault_report: Any
) -> None:
    fault_report(target=f"Update {target}", **_figures(await _fuzz_update(abuse, target, data)))


@pytest.mark.faults_full
@pytest.mark.scenario(SCENARIO_5)
@pytest.mark.parametrize("target", UPDATE_TARGETS)
@fuzz(FULL)
@given(data=st.data())
async def test_fuzzed_updates_are_refused_full(
    abuse: Abuse, target: str, data: st.DataObject, fault_report: Any
) -> None:
    fault_report(target=f"Update {target}", **_figures(await _fuzz_update(abuse, f"{target}", data)))


async def _send(abuse: Abuse, req: BadRequest) -> httpx.Response:
    parked = abuse.parked[req.parked]
    token = parked.tokens[req.role] if req.role else None
    headers: dict[str, str] = {}
    if req.form is not None:
        form = dict(req.form)
        if token:
            headers["Cookie"] = f"{TOKEN_COOKIE}={token}"
            if req.web:
                form.setdefault("csrf", csrf_of(token))
        return await abuse.stack.http.request(req.method, req.path, data=form, headers=headers)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return await abuse.stack.http.request(req.method, req.path, json=req.json, headers=headers)


async def _fuzz_route(abuse: Abuse, route: tuple[str, str], data: st.DataObject) -> Counter[str]:
    strategy = abuse.routes[route]
    assert strategy is not None, f"{route} takes no input"
    req = data.draw(strategy, label="request")
    handle = handle_of(abuse.stack.client, abuse.parked[req.parked].case_id)
    before = await snapshot(abuse.stack.sessions), await history_counts(handle)
    resp = await _send(abuse, req)
    what = f"{req.method} {req.path} {req.json if req.form is None else req.form!r}"[:500]
    assert resp.status_code < 500, f"{what}: {resp.status_code} {resp.text[:500]}"
    assert 400 <= resp.status_code < 500, f"accepted: {what}: {resp.status_code} {resp.text[:300]}"
    out = problem_of(resp)
    if req.path.startswith("/v1/"):
        assert out.code and out.detail, f"{what}: no code or detail: {resp.text[:300]}"
        if resp.status_code == 422:
            assert out.field, f"{what}: 422 without a field: {resp.text[:300]}"
    else:  # the pages: a problem (CSRF) or the page with the refusal shown
        assert out.code or 'role="alert"' in resp.text, f"{what}: no reason shown: {resp.text[:300]}"
    assert (await snapshot(abuse.stack.sessions), await history_counts(handle)) == before, what
    tally = _TALLY.setdefault(f"{route[0]} {route[1]}", Counter())
    tally.update({"inputs": 1, "refused": 1, f"refused_{resp.status_code}": 1})
    return tally


@pytest.mark.scenario(SCENARIO_5)
@pytest.mark.parametrize("route", FUZZED_ROUTES, ids=[f"{m} {p}" for m, p in FUZZED_ROUTES])
@fuzz(QUICK)
@given(data=st.data())
async def test_fuzzed_requests_are_refused_quick(
    abuse: Abuse, route: tuple[str, str], data: st.DataObject, fault_report: Any
) -> None:
    fault_report(target=f"{route[0]} {route[1]}", **_figures(await _fuzz_route(abuse, route, data)))


@pytest.mark.faults_full
@pytest.mark.scenario(SCENARIO_5)
@pytest.mark.parametrize("route", FUZZED_ROUTES, ids=[f"{m} {p}" for m, p in FUZZED_ROUTES])
@fuzz(FULL)
@given(data=st.data())
async def test_fuzzed_requests_are_refused_full(
    abuse: Abuse, route: tuple[str, str], data: st.DataObject, fault_report: Any
) -> None:
    fault_report(target=f"{route[0]} {route[1]}", **_figures(await _fuzz_route(abuse, route, data)))


def test_every_mutating_route_has_a_fuzz_strategy() -> None:
    """A route added to the app without bad inputs to send it fails here."""
    from api.main import app

    routes = mutating_routes(app)
    assert len(routes) >= 15, routes
    missing = sorted(set(routes) - set(ROUTE_KEYS))
    assert not missing, f"mutating routes without a fuzz strategy in tests/faults/abuse_support.py: {missing}"
    stale = sorted(set(ROUTE_KEYS) - set(routes))
    assert not stale, f"fuzz strategies for routes the app no longer has: {stale}"


@pytest.mark.scenario(SCENARIO_5)
async def test_inputs_the_fuzz_found_are_refused_with_their_field(abuse: Abuse, fault_report: Any) -> None:
    """What the fuzz found, pinned: a null nudge broke every workflow task of its case; a null Update had no reason;
    a body that is null, not an object or carries a NUL named no field; a web score for a criterion that is not a
    number answered 500."""
    parked = abuse.parked[Stage.SELF_ASSESSMENT]
    handle = handle_of(abuse.stack.client, parked.case_id)
    before = await snapshot(abuse.stack.sessions), await history_counts(handle)

    length = len([e async for e in handle.fetch_history_events()])
    await handle.signal("nudge", None)
    events = await _settled(handle, length)
    assert EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED not in [e.event_type for e in events[length:]]

    for name in ("complete_task", *ADMIN_UPDATES):
        with pytest.raises(WorkflowUpdateFailedError) as info:
            await handle.execute_update(name, None, id=f"null-{uuid.uuid4()}")
        assert _refusal_reason(info.value.cause) == ("invalid_payload", "input"), name

    url = f"/v1/tasks/{parked.task_id}/complete"
    for body in (None, [], "x"):
        resp = await _send(abuse, BadRequest("POST", url, json=body, role=Role.COMMUNE_OFFICER, parked=parked.stage))
        assert (resp.status_code, resp.json()["field"]) == (422, "body"), resp.text
    resp = await _send(
        abuse, BadRequest("POST", url, json={"scores": {"1": "\x00"}}, role=Role.COMMUNE_OFFICER, parked=parked.stage)
    )
    assert (resp.status_code, resp.json()["field"]) == (422, "body"), resp.text
    web = BadRequest(
        "POST",
        f"/web/tasks/{parked.task_id}",
        form={"score-Þ": "6"},
        role=Role.COMMUNE_OFFICER,
        parked=parked.stage,
        web=True,
    )
    submitted = await _send(abuse, web)
    assert submitted.status_code == 422 and 'role="alert"' in submitted.text, submitted.text[:300]
    previewed = await _send(
        abuse, BadRequest("POST", f"{web.path}/preview", form=web.form, role=web.role, parked=web.parked, web=True)
    )
    assert previewed.status_code == 200, previewed.text[:300]  # the preview shows the rest; nothing is recorded

    assert (await snapshot(abuse.stack.sessions), await history_counts(handle)) == before
    fault_report(target="inputs found by the fuzz", inputs=13, refused=13, state_changes=0, server_errors=0)
