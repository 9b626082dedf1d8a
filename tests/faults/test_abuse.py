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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, text
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from activities.case_store import CaseStore
from audit.service import verify_all, verify_case
from contracts import CompleteTaskInput, RecordTransitionInput, RecordTransitionResult
from db.session import make_engine, make_session_factory
from domain.access import RoleScope
from domain.stages import Role, Stage
from tests.activities.test_case_store import _inputs as transitions_for
from tests.api.helpers import add_official
from tests.audit.changed_workflow import ChangedRecognitionCaseWorkflow
from tests.conftest import _admin_engine, with_database
from tests.faults.abuse_support import (
    ADMIN_UPDATES,
    HUMAN_STAGES,
    PLACEMENTS,
    PUBLIC,
    ROLE_OF_STAGE,
    ROUTE_KEYS,
    BadRequest,
    MatrixRoute,
    Parked,
    SleepsFirstRecognitionCaseWorkflow,
    Snapshot,
    all_routes,
    assignment_ids,
    bad_admin_update,
    bad_form,
    bad_nudge,
    case_rows,
    fill,
    handle_of,
    history_counts,
    matrix_context,
    matrix_routes,
    mutating_routes,
    park,
    problem_of,
    route_fuzz,
    scope_for,
    seed_unit_officials,
    snapshot,
    wait_for_task,
    wrong_scopes,
)
from tests.support import Stack, form_for, fresh_unit, running_stack, sign, sign_json, token_for
from web.pages import SESSION_COOKIE, csrf_of
from workflows.case import RecognitionCaseWorkflow
from workflows.registry import WORKFLOWS, warm_domain, workflow_runner

QUICK = 25  # per Update and route: make test
HISTORY_EVERY = 20
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
    url: str
    stack: Stack
    parked: dict[Stage, Parked]
    routes: dict[tuple[str, str], Any]
    accepted: dict[str, int] = field(default_factory=dict)  # case id → accepted updates once parked
    last: dict[str, Snapshot] = field(default_factory=dict)  # target → the database after its last refused input

    async def unchanged(self, target: str, before: Snapshot | None = None) -> None:
        """The database as it was before the input (a refused input leaves the next one the same database)."""
        after = await snapshot(self.stack.sessions)
        was = before or self.last[target]
        assert after == was, f"{target}: a refused input changed the database: {was.changes(after)}"
        self.last[target] = after

    async def no_update_accepted(self) -> None:
        """Every parked case's history holds the accepted updates it had once parked: none since, ever."""
        for parked in self.parked.values():
            now = (await history_counts(handle_of(self.stack.client, parked.case_id)))["accepted"]
            assert now == self.accepted[parked.case_id], f"{parked.case_id}: an update was accepted"


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
            held = await assignment_ids(stack.sessions, by_stage[Stage.REGISTRATION].officials)
            abuse = Abuse(url, stack, by_stage, route_fuzz(by_stage, held))
            for p in parked:
                abuse.accepted[p.case_id] = (await history_counts(handle_of(stack.client, p.case_id)))["accepted"]
            yield abuse
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


async def _fuzz_update(abuse: Abuse, target: str, data: st.DataObject, variant: str) -> Counter[str]:
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
    update_id = f"fuzz-{uuid.uuid4()}"
    arg = sign_json(name, arg, parked.case_id, update_id=update_id)  # vouched for: what refuses it is the case's rule
    handle = handle_of(abuse.stack.client, parked.case_id)
    if target not in abuse.last:
        abuse.last[target] = await snapshot(abuse.stack.sessions)
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await handle.execute_update(name, arg, id=update_id)
    code, _ = _refusal_reason(info.value.cause)
    assert code in allowed, (code, info.value.cause)
    await abuse.unchanged(target)
    return await _count(abuse, f"{variant} {target}", code)


async def _count(abuse: Abuse, target: str, refusal: str) -> Counter[str]:
    """Tally one refused input; now and then, look for an accepted update in every parked case's history (they
    stay there, so a later look catches an earlier one; the last look is `test_no_fuzzed_input_was_accepted`)."""
    tally = _TALLY.setdefault(target, Counter())  # one per variant: "quick …" and "full …"
    tally.update({"inputs": 1, "refused": 1, f"refused_{refusal}": 1})
    if tally["inputs"] % HISTORY_EVERY == 1:
        await abuse.no_update_accepted()
    return tally


async def _settled(handle: Any, after: int, timeout: float = 10) -> list[Any]:
    """The history once the worker has taken every event after `after` (a workflow task completed or failed; what
    it recorded, such as the marker of the nudge's actor check, may follow the completion)."""
    deadline = asyncio.get_running_loop().time() + timeout
    pending = {EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED}
    while True:
        events = [e async for e in handle.fetch_history_events()]
        tail = [e.event_type for e in events[after:]]
        if EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED in tail or (
            EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED in tail and tail[-1] not in pending
        ):
            return events
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"the worker did not take the events after {after}: {tail}")
        await asyncio.sleep(0.02)


async def _fuzz_nudge(abuse: Abuse, data: st.DataObject, variant: str) -> Counter[str]:
    """The `nudge` signal is fire and forget: a bad one must be dropped, never break the case's workflow task."""
    parked = abuse.parked[Stage.REGISTRATION]
    arg = data.draw(bad_nudge(parked), label="nudge")
    handle = handle_of(abuse.stack.client, parked.case_id)
    if "nudge" not in abuse.last:
        abuse.last["nudge"] = await snapshot(abuse.stack.sessions)
    length = len([e async for e in handle.fetch_history_events()])
    await handle.signal("nudge", arg)
    events = await _settled(handle, length)
    failed = [e for e in events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED]
    assert not failed, failed[0].workflow_task_failed_event_attributes.failure.message
    await abuse.unchanged("nudge")
    return await _count(abuse, f"{variant} nudge", "dropped")


@pytest.mark.scenario(SCENARIO_5)
@fuzz(QUICK)
@given(data=st.data())
async def test_fuzzed_nudges_are_dropped_quick(abuse: Abuse, data: st.DataObject, fault_report: Any) -> None:
    fault_report(target="Signal nudge", **_figures(await _fuzz_nudge(abuse, data, "quick")))


@pytest.mark.faults_full
@pytest.mark.scenario(SCENARIO_5)
@fuzz(FULL)
@given(data=st.data())
async def test_fuzzed_nudges_are_dropped_full(abuse: Abuse, data: st.DataObject, fault_report: Any) -> None:
    fault_report(target="Signal nudge", **_figures(await _fuzz_nudge(abuse, data, "full")))


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
    fault_report(target=f"Update {target}", **_figures(await _fuzz_update(abuse, target, data, "quick")))


@pytest.mark.faults_full
@pytest.mark.scenario(SCENARIO_5)
@pytest.mark.parametrize("target", UPDATE_TARGETS)
@fuzz(FULL)
@given(data=st.data())
async def test_fuzzed_updates_are_refused_full(
    abuse: Abuse, target: str, data: st.DataObject, fault_report: Any
) -> None:
    fault_report(target=f"Update {target}", **_figures(await _fuzz_update(abuse, target, data, "full")))


_WEB_SESSIONS: dict[str, str] = {}  # bearer token → the page session it signed in to


async def web_session(abuse: Abuse, token: str) -> str:
    """The page session a token signs in to (once per token, in a browser of its own): the id its cookie carries."""
    if token not in _WEB_SESSIONS:
        async with httpx.AsyncClient(base_url=abuse.stack.http.base_url, timeout=30) as browser:
            resp = await browser.post("/web/signin", data={"token": token})
            assert resp.status_code == 303, resp.text[:300]
            _WEB_SESSIONS[token] = resp.cookies[SESSION_COOKIE]
    return _WEB_SESSIONS[token]


async def _send(abuse: Abuse, req: BadRequest) -> httpx.Response:
    parked = abuse.parked[req.parked]
    token = parked.tokens[req.role] if req.role else None
    headers: dict[str, str] = {}
    if req.form is not None:
        form = dict(req.form)
        if token:
            session_id = await web_session(abuse, token)
            headers["Cookie"] = f"{SESSION_COOKIE}={session_id}"
            if req.web:
                form.setdefault("csrf", csrf_of(session_id))
        return await abuse.stack.http.request(req.method, req.path, data=form, headers=headers)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return await abuse.stack.http.request(req.method, req.path, json=req.json, files=req.files, headers=headers)


async def _fuzz_route(abuse: Abuse, route: tuple[str, str], data: st.DataObject, variant: str) -> Counter[str]:
    strategy = abuse.routes[route]
    assert strategy is not None, f"{route} takes no input"
    req = data.draw(strategy, label="request")
    target = f"{route[0]} {route[1]}"
    if target not in abuse.last:
        abuse.last[target] = await snapshot(abuse.stack.sessions)
    resp = await _send(abuse, req)
    sent = req.files if req.files is not None else req.json if req.form is None else req.form
    what = f"{req.method} {req.path} {sent!r}"[:500]
    assert resp.status_code < 500, f"{what}: {resp.status_code} {resp.text[:500]}"
    assert 400 <= resp.status_code < 500, f"accepted: {what}: {resp.status_code} {resp.text[:300]}"
    out = problem_of(resp)
    if req.path.startswith("/v1/"):
        assert out.code and out.detail, f"{what}: no code or detail: {resp.text[:300]}"
        if resp.status_code == 422:
            assert out.field, f"{what}: 422 without a field: {resp.text[:300]}"
    else:  # the pages: a problem (CSRF) or the page with the refusal shown
        assert out.code or 'role="alert"' in resp.text, f"{what}: no reason shown: {resp.text[:300]}"
    await abuse.unchanged(target)
    return await _count(abuse, f"{variant} {target}", str(resp.status_code))


@pytest.mark.scenario(SCENARIO_5)
@pytest.mark.parametrize("route", FUZZED_ROUTES, ids=[f"{m} {p}" for m, p in FUZZED_ROUTES])
@fuzz(QUICK)
@given(data=st.data())
async def test_fuzzed_requests_are_refused_quick(
    abuse: Abuse, route: tuple[str, str], data: st.DataObject, fault_report: Any
) -> None:
    fault_report(target=f"{route[0]} {route[1]}", **_figures(await _fuzz_route(abuse, route, data, "quick")))


@pytest.mark.faults_full
@pytest.mark.scenario(SCENARIO_5)
@pytest.mark.parametrize("route", FUZZED_ROUTES, ids=[f"{m} {p}" for m, p in FUZZED_ROUTES])
@fuzz(FULL)
@given(data=st.data())
async def test_fuzzed_requests_are_refused_full(
    abuse: Abuse, route: tuple[str, str], data: st.DataObject, fault_report: Any
) -> None:
    fault_report(target=f"{route[0]} {route[1]}", **_figures(await _fuzz_route(abuse, route, data, "full")))


@pytest.mark.scenario(SCENARIO_5)
async def test_no_fuzzed_input_was_accepted(abuse: Abuse, fault_report: Any) -> None:
    """After every fuzzed input: no parked case's history holds an accepted update beyond those that parked it."""
    await abuse.no_update_accepted()
    fault_report(target="no update accepted in any parked case's history", cases=len(abuse.parked))


@pytest.mark.scenario(SCENARIO_5)
def test_every_mutating_route_has_a_fuzz_strategy(fault_report: Any) -> None:
    """A route added to the app without bad inputs to send it fails here."""
    from api.main import app

    routes = mutating_routes(app)
    assert len(routes) >= 15, routes
    missing = sorted(set(routes) - set(ROUTE_KEYS))
    assert not missing, f"mutating routes without a fuzz strategy in tests/faults/abuse_support.py: {missing}"
    stale = sorted(set(ROUTE_KEYS) - set(routes))
    assert not stale, f"fuzz strategies for routes the app no longer has: {stale}"
    fault_report(target="every mutating route has bad inputs", routes=len(routes), without_strategy=len(missing))


@pytest.mark.scenario(SCENARIO_5)
async def test_inputs_the_fuzz_found_are_refused_with_their_field(abuse: Abuse, fault_report: Any) -> None:
    """What the fuzz found, pinned: a null nudge broke every workflow task of its case; a null Update had no reason;
    a body that is null, not an object or carries a NUL named no field; a web score for a criterion that is not a
    number answered 500; a due time too far in the future for the calendar was refused as an OverflowError (a 502
    through the API, a `failed` case in a bulk extension)."""
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

    for far in ("9999-12-31T23:00:00+00:00", "9999-12-30T00:00:00+07:00"):
        admin = parked.actor(Role.ADMIN).model_dump(mode="json")
        arg = {"actor": admin, "reason": "x", "task_id": parked.task_id, "new_due_at": far}
        update_id = f"far-{uuid.uuid4()}"
        arg = sign_json("extend_due", arg, parked.case_id, update_id=update_id)
        with pytest.raises(WorkflowUpdateFailedError) as info:
            await handle.execute_update("extend_due", arg, id=update_id)
        assert _refusal_reason(info.value.cause) == ("invalid_payload", "new_due_at"), info.value.cause
    resp = await abuse.stack.http.post(
        "/v1/bulk/extend-due",
        json={
            "dry_run": False,
            "reason": "x",
            "new_due_at": "9999-12-31T23:00:00Z",
            "filter": {"province": parked.actor(Role.ADMIN).scopes[0].province_code, "case_ids": [parked.case_id]},
        },
        headers=parked.headers(Role.ADMIN),
    )
    # beyond the due horizon (XPTT_DUE_HORIZON_DAYS): refused before anything is sent to the case
    assert (resp.status_code, resp.json()["field"]) == (422, "new_due_at"), resp.text

    assert (await snapshot(abuse.stack.sessions), await history_counts(handle)) == before
    fault_report(target="inputs found by the fuzz", inputs=16, refused=16, state_changes=0, server_errors=0)


# -- 4. the same Update twice, the same activity twice: one effect ---------------------------------------------------
SCENARIO_4 = "4. the same Update delivered twice, the same activity run twice (and after a failure): one effect"


async def _complete(abuse: Abuse, parked: Parked, key: str | None) -> httpx.Response:
    headers = parked.headers(ROLE_OF_STAGE[parked.stage]) | ({"Idempotency-Key": key} if key else {})
    return await abuse.stack.http.post(
        f"/v1/tasks/{parked.task_id}/complete", json=form_for(parked.stage), headers=headers
    )


def _delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: after[k] - before[k] for k in after}


@pytest.mark.scenario(SCENARIO_4)
async def test_an_update_delivered_twice_has_one_effect(abuse: Abuse, fault_report: Any) -> None:
    """A client retry (the same Idempotency-Key, so the same update id: Temporal answers the first update's result),
    sent again and sent twice at once; and two different update ids carrying the same completion (the second is
    refused: its task is no longer open). Each completion is one transition: one journal row, one task completed and
    the next one opened, the same outbox rows as a single delivery."""
    parked = await park(abuse.stack, Stage.REGISTRATION)
    handle = handle_of(abuse.stack.client, parked.case_id)
    deliveries = effects = 0

    # 1. the same key twice in a row, then twice at once
    before, hist = await case_rows(abuse.stack.sessions, parked.case_id), await history_counts(handle)
    key = f"retry-{uuid.uuid4()}"
    first = await _complete(abuse, parked, key)
    once = await case_rows(abuse.stack.sessions, parked.case_id)
    retries = [
        await _complete(abuse, parked, key),
        *await asyncio.gather(*(_complete(abuse, parked, key) for _ in range(2))),
    ]
    deliveries += 4
    assert first.status_code == 200, first.text
    assert all(r.status_code == 200 and r.json() == first.json() for r in retries), [r.text for r in retries]
    single = _delta(once, before)
    assert single["audit_events"] == 1 and single["tasks"] == 1 and single["notifications"] >= 1, single
    assert await case_rows(abuse.stack.sessions, parked.case_id) == once
    assert (await history_counts(handle))["accepted"] - hist["accepted"] == 1
    effects += 1

    # 2. two different keys carrying the same completion, one after the other and at once
    for concurrent in (False, True):
        parked.stage = Stage.SELF_ASSESSMENT if not concurrent else Stage.COUNCIL_ASSESSMENT
        parked.task_id = await wait_for_task(abuse.stack, parked.case_id, parked.stage)
        before, hist = await case_rows(abuse.stack.sessions, parked.case_id), await history_counts(handle)
        if concurrent:
            answers = list(await asyncio.gather(*(_complete(abuse, parked, f"k-{uuid.uuid4()}") for _ in range(2))))
        else:
            answers = [await _complete(abuse, parked, f"k-{uuid.uuid4()}") for _ in range(2)]
        deliveries += 2
        assert sorted(r.status_code for r in answers) == [200, 409], [r.text for r in answers]
        refused = next(r for r in answers if r.status_code == 409)
        assert refused.json()["code"] == "task_not_open", refused.text
        delta = _delta(await case_rows(abuse.stack.sessions, parked.case_id), before)
        assert delta["audit_events"] == 1 and delta["tasks"] == 1, delta
        # at once, both may pass the validator; the handler checks again under the case's lock and refuses one
        accepted = (await history_counts(handle))["accepted"] - hist["accepted"]
        assert accepted in ({1, 2} if concurrent else {1}), accepted
        effects += 1

    # 3. a direct Update sent twice with the same id (what the client does when its connection drops)
    parked.stage = Stage.PUBLIC_POSTING
    parked.task_id = await wait_for_task(abuse.stack, parked.case_id, parked.stage)
    before, hist = await case_rows(abuse.stack.sessions, parked.case_id), await history_counts(handle)
    update = CompleteTaskInput(task_id=parked.task_id, actor=parked.actor(), payload=form_for(parked.stage))
    update_id = f"same-{uuid.uuid4()}"
    update = sign(update, parked.case_id, update_id=update_id)
    results = [
        await handle.execute_update(RecognitionCaseWorkflow.complete_task, update, id=update_id) for _ in range(2)
    ]
    deliveries += 2
    assert results[0] == results[1]
    delta = _delta(await case_rows(abuse.stack.sessions, parked.case_id), before)
    assert delta["audit_events"] == 1 and delta["tasks"] == 1, delta
    assert (await history_counts(handle))["accepted"] - hist["accepted"] == 1
    effects += 1
    fault_report(target="Update", deliveries=deliveries, effects=effects, doubled=0)


async def _recorded_transitions(handle: Any) -> list[tuple[RecordTransitionInput, RecordTransitionResult]]:
    """Every `record_transition` the case ran, with the input Temporal gave it and the result it recorded."""
    converter = pydantic_data_converter.payload_converter
    inputs: dict[int, RecordTransitionInput] = {}
    out = []
    async for ev in handle.fetch_history_events():
        if ev.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attrs = ev.activity_task_scheduled_event_attributes
            if attrs.activity_type.name == "record_transition":
                inputs[ev.event_id] = converter.from_payloads(attrs.input.payloads, [RecordTransitionInput])[0]
        elif ev.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            attrs = ev.activity_task_completed_event_attributes
            if attrs.scheduled_event_id in inputs:
                result = converter.from_payloads(attrs.result.payloads, [RecordTransitionResult])[0]
                out.append((inputs[attrs.scheduled_event_id], result))
    return out


@pytest.mark.scenario(SCENARIO_4)
async def test_an_activity_run_again_has_one_effect(abuse: Abuse, fault_report: Any) -> None:
    """Temporal runs an activity at least once. Every projection a real case recorded, run again with the input from
    its history (a retry after the worker lost the completion), changes no row and answers the same outbox ids; a
    run that fails half-way (after the journal row, at the outbox) leaves nothing, and its retry records it once."""
    parked = abuse.parked[Stage.COMMENDATION]  # the longest history: every stage's transition
    handle = handle_of(abuse.stack.client, parked.case_id)
    recorded = await _recorded_transitions(handle)
    assert len(recorded) >= 9, len(recorded)
    store = CaseStore(abuse.stack.sessions)
    env = ActivityEnvironment()
    before = await snapshot(abuse.stack.sessions), await case_rows(abuse.stack.sessions, parked.case_id)
    for inp, result in recorded:
        again = await env.run(store.record_transition, inp)
        assert again == result, (inp.transition.action, again, result)
        assert (await snapshot(abuse.stack.sessions), await case_rows(abuse.stack.sessions, parked.case_id)) == before

    # half-way: the journal row and the tasks are written, the outbox insert fails, the transaction rolls back
    unit = fresh_unit()
    await seed_unit_officials(abuse.stack.sessions, unit)
    engine = make_engine(abuse.url, pool_size=1)
    armed = {"on": True, "failed": 0}

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _cut(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if armed["on"] and statement.lstrip().upper().startswith("INSERT INTO NOTIFICATIONS"):
            armed["failed"] += 1
            raise ConnectionResetError("connection lost half-way through the projection")

    try:
        faulty = CaseStore(make_session_factory(engine))
        runs = 0
        for inp in transitions_for(unit):
            case_before = await case_rows(abuse.stack.sessions, inp.case.case_id)
            armed["on"] = True
            with pytest.raises(ConnectionResetError):
                await env.run(faulty.record_transition, inp)
            assert await case_rows(abuse.stack.sessions, inp.case.case_id) == case_before, inp.transition.action
            armed["on"] = False
            first = await env.run(faulty.record_transition, inp)
            once = await case_rows(abuse.stack.sessions, inp.case.case_id)
            assert once["audit_events"] == case_before["audit_events"] + 1
            assert once["notifications"] > case_before["notifications"], "the transition notifies no one"
            assert await env.run(faulty.record_transition, inp) == first
            assert await case_rows(abuse.stack.sessions, inp.case.case_id) == once
            runs += 3
        assert armed["failed"] == len(transitions_for(unit))
    finally:
        await engine.dispose()
    fault_report(target="activity", reruns=len(recorded), failed_halfway=armed["failed"], retries=runs, doubled=0)


# -- 6. every role × every route × own unit / other unit / other province --------------------------------------------
SCENARIO_6 = "6. every role × route × own unit / other unit / other province: refused exactly where access says no"
MATRIX_ROUND = "qd06-2019:2027"
REFUSAL_CODES = {"forbidden", "task_not_found", "case_not_found", "official_not_found", "unit_not_found"}


@dataclass
class MatrixCase:
    parked: Parked
    tokens: dict[tuple[Role, str], str]  # (role, placement) → bearer token
    scopes: dict[tuple[Role, str], list[RoleScope]]
    ctx: dict[str, str]  # what the routes' URLs and bodies name (abuse_support.matrix_context)


async def _matrix_case(abuse: Abuse, name: str) -> MatrixCase:
    parked = await park(abuse.stack, Stage.REGISTRATION)
    other_unit = fresh_unit()
    tokens, scopes = {}, {}
    for role in Role:
        for placement in PLACEMENTS:
            scope = scope_for(role, placement, parked.unit_code, other_unit)
            official = f"m-{name}-{role.value}-{placement}-{parked.unit_code}"
            await add_official(abuse.stack.sessions, official, role, scope.province_code, scope.unit_code)
            tokens[(role, placement)] = token_for(official)
            scopes[(role, placement)] = [scope]
    return MatrixCase(parked, tokens, scopes, await matrix_context(abuse.stack.sessions, parked, name))


async def _call(abuse: Abuse, route: MatrixRoute, token: str, ctx: dict[str, str]) -> httpx.Response:
    url = fill(route.url, ctx)
    if route.path.startswith("/web/"):
        session_id = await web_session(abuse, token)
        headers = {"Cookie": f"{SESSION_COOKIE}={session_id}"}
        if route.method == "POST":
            form = {**fill(route.form or {}, ctx), "csrf": csrf_of(session_id)}
            return await abuse.stack.http.post(url, data=form, headers=headers)
        return await abuse.stack.http.get(url, headers=headers)
    headers = {"Authorization": f"Bearer {token}"}
    return await abuse.stack.http.request(
        route.method, url, json=fill(route.json, ctx), files=route.files, headers=headers
    )


@pytest.mark.scenario(SCENARIO_6)
async def test_every_role_on_every_route_is_refused_exactly_where_access_says_no(
    abuse: Abuse, fault_report: Any
) -> None:
    """The oracle is domain/access.py (may_act, may_read) over each official's one assignment; the API must agree
    both ways: every cell it says no to is refused (404 where the case's existence is private to the caller, else
    403) and changes nothing, and every cell it says yes to gets through."""
    from api.main import app

    routes = matrix_routes(MATRIX_ROUND)
    covered = {(r.method, r.path) for r in routes}
    public = {r for r in all_routes(app) if r[1] in PUBLIC or r[1].startswith("/web/oidc/")}
    assert not set(all_routes(app)) - covered - public, (
        f"routes outside the matrix: {set(all_routes(app)) - covered - public}"
    )

    names = sorted({r.case for r in routes})
    cases = dict(zip(names, await asyncio.gather(*(_matrix_case(abuse, n) for n in names)), strict=True))
    figures = Counter[str]()
    wrong: list[str] = []
    for phase in ("refusals and reads", "allowed writes"):
        for route in routes:
            case = cases[route.case]
            ctx = case.ctx
            before = await snapshot(abuse.stack.sessions)
            for (role, placement), token in case.tokens.items():
                allowed = route.oracle(case.scopes[(role, placement)], case.parked.unit_code)
                if (phase == "allowed writes") != (allowed and route.writes and not route.listing):
                    continue
                resp = await _call(abuse, route, token, ctx)
                what = f"{route.method} {route.url} as {role.value} ({placement}): {resp.status_code}"
                figures["cells"] += 1
                if route.listing:
                    shown = case.parked.task_id in resp.text
                    if resp.status_code != 200 or shown != allowed:
                        wrong.append(f"{what}, case shown: {shown}, access says {allowed}")
                    figures["listed" if shown else "hidden"] += 1
                elif allowed:
                    if resp.status_code not in route.allowed_status:
                        wrong.append(f"{what}, access says yes: {resp.text[:200]}")
                    figures["allowed"] += 1
                else:
                    expected = route.refusal(case.scopes[(role, placement)], case.parked.unit_code)
                    out = problem_of(resp)
                    if resp.status_code != expected or (out.code is not None and out.code not in REFUSAL_CODES):
                        wrong.append(f"{what}, access says no: expected {expected}: {resp.text[:200]}")
                    figures["refused"] += 1
            if phase == "refusals and reads" and route.writes:
                assert await snapshot(abuse.stack.sessions) == before, (
                    f"a refused {route.method} {route.url} changed state"
                )
    assert not wrong, "\n".join(wrong)
    assert figures["refused"] > 300 and figures["allowed"] > 30, figures
    fault_report(**dict(figures), mismatches=len(wrong))


# -- 7. tamper: an altered journal row, a non-deterministic workflow edit --------------------------------------------
SCENARIO_7 = "7. an altered audit row is named by verify; a non-deterministic workflow edit fails the replay"
HISTORIES = sorted((Path(__file__).parent.parent / "histories").glob("*.json"))


async def _tamper(abuse: Abuse, sql: str, **params: Any) -> None:
    """What someone with the database's superuser could do: the journal's triggers switched off for one statement."""
    async with abuse.stack.sessions() as session, session.begin():
        await session.execute(text("SET LOCAL session_replication_role = replica"))
        await session.execute(text(sql), params)


@pytest.mark.scenario(SCENARIO_7)
async def test_an_altered_audit_row_is_named_by_verify(abuse: Abuse, fault_report: Any) -> None:
    """Real cases' journals (written by the workflow's projections): every chain holds; then one row's payload and
    another case's row's time are changed in PostgreSQL, and verify names exactly those two rows — through the audit
    service (`xptt audit verify --all` runs it) and through the auditor's API route."""
    sessions = abuse.stack.sessions
    intact = await verify_all(sessions)
    assert intact and all(r.ok for r in intact), [r.summary() for r in intact if not r.ok]
    payload_case = abuse.parked[Stage.DECISION].case_id
    time_case = abuse.parked[Stage.APPRAISAL].case_id
    await _tamper(
        abuse,
        "UPDATE audit_events SET payload = jsonb_set(payload, '{registered}', 'false') WHERE case_id = :c AND seq = 2",
        c=payload_case,
    )
    await _tamper(
        abuse,
        "UPDATE audit_events SET occurred_at = occurred_at - interval '1 day' WHERE case_id = :c AND seq = 4",
        c=time_case,
    )
    for case_id, seq in ((payload_case, 2), (time_case, 4)):
        found = await verify_case(sessions, case_id)
        assert found.first_problem is not None, found.summary()
        assert (found.first_problem.case_id, found.first_problem.seq, found.first_problem.kind) == (
            case_id,
            seq,
            "altered",
        )
    everything = await verify_all(sessions)
    broken = {(r.case_id, r.first_problem.seq) for r in everything if r.first_problem is not None}
    assert broken == {(payload_case, 2), (time_case, 4)}, broken
    auditor = abuse.parked[Stage.DECISION].headers(Role.AUDITOR)
    resp = await abuse.stack.http.get(f"/v1/audit/cases/{payload_case}/verify", headers=auditor)
    assert resp.status_code == 200 and resp.json()["ok"] is False, resp.text
    assert (resp.json()["first_problem"]["seq"], resp.json()["first_problem"]["kind"]) == (2, "altered")
    fault_report(cases_verified=len(everything), rows_altered=2, detected=len(broken), missed=0, false_alarms=0)


@pytest.mark.scenario(SCENARIO_7)
async def test_a_non_deterministic_workflow_edit_fails_the_replay_before_deploy(fault_report: Any) -> None:
    """Every recorded history in tests/histories replays on the real workflows, and every case history fails with
    a non-determinism error on two changed case workflows: a different first command, and the real workflow with a
    pause added before the case opens."""
    warm_domain()
    others = [w for w in WORKFLOWS if w is not RecognitionCaseWorkflow]
    replays = caught = 0
    case_histories = 0
    for path in HISTORIES:
        history = WorkflowHistory.from_json(path.stem, path.read_text())
        kind = history.events[0].workflow_execution_started_event_attributes.workflow_type.name
        real = Replayer(
            workflows=list(WORKFLOWS), data_converter=pydantic_data_converter, workflow_runner=workflow_runner()
        )
        result = await real.replay_workflow(history, raise_on_replay_failure=False)
        assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"
        replays += 1
        if kind != "RecognitionCaseWorkflow":
            continue
        case_histories += 1
        for changed in (ChangedRecognitionCaseWorkflow, SleepsFirstRecognitionCaseWorkflow):
            replayer = Replayer(
                workflows=[changed, *others], data_converter=pydantic_data_converter, workflow_runner=workflow_runner()
            )
            result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
            assert isinstance(result.replay_failure, NondeterminismError), (path.name, changed.__name__, result)
            caught += 1
    assert case_histories >= 2 and caught == 2 * case_histories
    fault_report(histories=replays, replayed_on_real_code=replays, edits=2, nondeterminism_caught=caught, missed=0)
