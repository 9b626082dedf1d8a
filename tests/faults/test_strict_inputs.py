"""Inputs the law cannot mean, on the real stack: worker and HTTP API on loopback, a real Temporal dev server, real
PostgreSQL.

Each row of the table is one input an attacker tried: a council meeting, a posting or a decision dated 2099 (or before
the round's period); a score given as text, a decimal or a boolean, or under a criterion key that is not the
criterion's number ("01", " 1", "1.0"); Infinity, NaN or 1e309 in a JSON body; a round of a repealed rule set, an
assessed one or one decades ahead; a due date moved to the year 5000; a keyset cursor dated 0001-01-01 or 9999-12-31
with an offset; a score or criterion of thousands of digits on the web form. Each is refused (422 naming the field,
or the case's validator naming it), nothing changes (no journal row, no task, no case, no round), and nothing answers
500. The same forms sent straight to the case workflow (past the API) are refused by its validator alike.
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from contracts import CompleteTaskInput
from db.models import RoundRow
from db.session import make_engine, make_session_factory
from domain.stages import Stage
from tests.conftest import _admin_engine, with_database
from tests.faults.abuse_support import ROLE_OF_STAGE, Parked, handle_of, history_counts, park, snapshot
from tests.support import PROVINCE, Stack, execute_signed, form_for, running_stack
from tests.web.test_pages import csrf
from workflows.case import RecognitionCaseWorkflow
from workflows.round import round_workflow_id

SCENARIO = "9. inputs the law cannot mean (dates, scores, keys, numbers, rounds, due dates, cursors): 422, no change"
STAGES = (Stage.REGISTRATION, Stage.SELF_ASSESSMENT, Stage.COUNCIL_ASSESSMENT, Stage.PUBLIC_POSTING, Stage.DECISION)
GIANT = "9" * 4400  # more digits than Python reads as an int from text (4,300)


@dataclass
class Strict:
    stack: Stack
    parked: dict[Stage, Parked]


@pytest.fixture(scope="module")
async def strict(
    pg_server_url: str, template_database: str, temporal_env: WorkflowEnvironment
) -> AsyncIterator[Strict]:
    """One stack with a case parked at each stage whose form names days or scores."""
    name = f"xptt_strict_{uuid.uuid4().hex[:12]}"
    admin = await _admin_engine(pg_server_url)
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"'))
    engine = make_engine(with_database(pg_server_url, name), pool_size=5)
    try:
        url = with_database(pg_server_url, name)
        async with running_stack(temporal_env.client, url, make_session_factory(engine)) as stack:
            parked = await asyncio.gather(*(park(stack, s) for s in STAGES))
            yield Strict(stack, {p.stage: p for p in parked})
    finally:
        await engine.dispose()
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


def _raw(body: dict[str, Any], **raw: str) -> bytes:
    """`body` as JSON with each of `raw`'s fields written as the given JSON text (e.g. Infinity, which JSON lacks)."""
    text_ = json.dumps({**body, **{k: f"@@{k}@@" for k in raw}})
    for k, v in raw.items():
        text_ = text_.replace(json.dumps(f"@@{k}@@"), v)
    return text_.encode()


def _scores(**changes: Any) -> dict[str, Any]:
    return {**form_for(Stage.SELF_ASSESSMENT)["scores"], **changes}


SELF = form_for(Stage.SELF_ASSESSMENT)
COUNCIL = form_for(Stage.COUNCIL_ASSESSMENT)
POSTING = form_for(Stage.PUBLIC_POSTING)
DECISION = form_for(Stage.DECISION)
# (name, stage, body: a JSON object or raw JSON bytes, code, field)
FORM_ROWS: list[tuple[str, Stage, dict[str, Any] | bytes, str, str]] = [
    (
        "council meeting in 2099",
        Stage.COUNCIL_ASSESSMENT,
        {**COUNCIL, "meeting_date": "2099-10-20"},
        "invalid_payload",
        "meeting_date",
    ),
    (
        "council meeting before the period",
        Stage.COUNCIL_ASSESSMENT,
        {**COUNCIL, "meeting_date": "2024-10-31"},
        "invalid_payload",
        "meeting_date",
    ),
    (
        "posting in 2099",
        Stage.PUBLIC_POSTING,
        {**POSTING, "posted_from": "2099-10-21", "posted_to": "2099-10-29"},
        "invalid_payload",
        "posted_from",
    ),
    (
        "decision in 2099",
        Stage.DECISION,
        {**DECISION, "decision_date": "2099-11-30"},
        "invalid_payload",
        "decision_date",
    ),
    ('score "74"', Stage.SELF_ASSESSMENT, {**SELF, "scores": _scores(**{"3": "74"})}, "invalid_payload", "scores.3"),
    (
        'score " 7_4 "',
        Stage.SELF_ASSESSMENT,
        {**SELF, "scores": _scores(**{"3": " 7_4 "})},
        "invalid_payload",
        "scores.3",
    ),
    ("score 74.0", Stage.SELF_ASSESSMENT, {**SELF, "scores": _scores(**{"3": 74.0})}, "invalid_payload", "scores.3"),
    ("score true", Stage.SELF_ASSESSMENT, {**SELF, "scores": _scores(**{"2": True})}, "invalid_payload", "scores.2"),
    ('key "01"', Stage.SELF_ASSESSMENT, {**SELF, "scores": _scores(**{"01": 3})}, "invalid_payload", "scores.01"),
    ('key " 1"', Stage.COUNCIL_ASSESSMENT, {**COUNCIL, "scores": _scores(**{" 1": 3})}, "invalid_payload", "scores. 1"),
    ('key "1.0"', Stage.SELF_ASSESSMENT, {**SELF, "scores": _scores(**{"1.0": 3})}, "invalid_payload", "scores.1.0"),
    (
        "source key 02",
        Stage.SELF_ASSESSMENT,
        {**SELF, "sources": {"02": "Sổ hộ tịch"}},
        "invalid_payload",
        "sources.02",
    ),
    ("registered 1", Stage.REGISTRATION, {"registered": 1}, "invalid_payload", "registered"),
    ("note Infinity", Stage.REGISTRATION, _raw({"registered": True}, note="Infinity"), "invalid_request", "note"),
    ("note 1e309", Stage.REGISTRATION, _raw({"registered": True}, note="1e309"), "invalid_request", "note"),
    ("note -Infinity", Stage.REGISTRATION, _raw({"registered": True}, note="-Infinity"), "invalid_request", "note"),
    ("score NaN", Stage.SELF_ASSESSMENT, _raw({}, scores='{"1": NaN}'), "invalid_request", "scores.1"),
    (
        "score of 4,400 digits",
        Stage.SELF_ASSESSMENT,
        _raw({}, scores='{"1": ' + GIANT + "}"),
        "invalid_request",
        "scores.1",
    ),
    ("key repeated", Stage.SELF_ASSESSMENT, b'{"scores": {"1": 3, "1": 74}}', "invalid_request", "scores.1"),
]


async def _complete(s: Strict, stage: Stage, body: dict[str, Any] | bytes) -> httpx.Response:
    parked = s.parked[stage]
    headers = {**parked.headers(ROLE_OF_STAGE[stage]), "content-type": "application/json"}
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await s.stack.http.post(f"/v1/tasks/{parked.task_id}/complete", content=content, headers=headers)


def _refused(resp: httpx.Response, code: str, field: str) -> None:
    assert resp.status_code == 422, f"{resp.status_code} {resp.text[:300]}"
    body = resp.json()
    assert (body["code"], body["field"]) == (code, field), body
    assert body["detail"]


@pytest.mark.scenario(SCENARIO)
async def test_each_form_the_law_cannot_mean_is_refused_naming_its_field(strict: Strict, fault_report: Any) -> None:
    accepted = {
        p.case_id: (await history_counts(handle_of(strict.stack.client, p.case_id)))["accepted"]
        for p in strict.parked.values()
    }
    before = await snapshot(strict.stack.sessions)
    for name, stage, body, code, field in FORM_ROWS:
        resp = await _complete(strict, stage, body)
        assert resp.status_code < 500, f"{name}: {resp.status_code} {resp.text[:300]}"
        _refused(resp, code, field)
        assert await snapshot(strict.stack.sessions) == before, f"{name} changed the database"
    for p in strict.parked.values():
        assert (await history_counts(handle_of(strict.stack.client, p.case_id)))["accepted"] == accepted[p.case_id]
    fault_report(inputs=len(FORM_ROWS), refused=len(FORM_ROWS), state_changes=0, server_errors=0)


@pytest.mark.scenario(SCENARIO)
async def test_the_case_workflow_refuses_them_sent_straight_to_it(strict: Strict, fault_report: Any) -> None:
    """Past the API (any Temporal client, with a valid actor): the validator refuses each form by its field."""
    rows = [(stage, body, field) for _, stage, body, code, field in FORM_ROWS if code == "invalid_payload"]
    for stage, body, field in rows:
        parked = strict.parked[stage]
        handle = handle_of(strict.stack.client, parked.case_id)
        before = await history_counts(handle)
        assert isinstance(body, dict)
        inp = CompleteTaskInput(task_id=parked.task_id, actor=parked.actor(), payload=body)
        with pytest.raises(WorkflowUpdateFailedError) as caught:
            await execute_signed(handle, RecognitionCaseWorkflow.complete_task, inp)
        cause = caught.value.cause
        assert isinstance(cause, ApplicationError) and cause.type == "invalid_payload", cause
        assert list(cause.details) == [field], (field, cause.details, cause)
        assert await history_counts(handle) == before
    fault_report(inputs=len(rows), refused=len(rows), accepted_updates=0)


@pytest.mark.scenario(SCENARIO)
async def test_rounds_due_dates_and_cursors_the_law_cannot_mean_are_refused(strict: Strict, fault_report: Any) -> None:
    stack, admin = strict.stack, strict.stack.headers("admin")
    before = await snapshot(stack.sessions)
    async with stack.sessions() as session:
        rounds_before = await session.scalar(select(func.count()).select_from(RoundRow))
    refused = 0
    for round_id in ("qd06-2019:2099", "qd37-2010:2012", "qd06-2019:2022", "qd34-2014:2019", "qd06-2019:٢٠٢٧"):
        resp = await stack.http.post("/v1/rounds", json={"round_id": round_id, "province": PROVINCE}, headers=admin)
        _refused(resp, "invalid_request", "round_id")
        with pytest.raises(RPCError) as missing:
            await stack.client.get_workflow_handle(round_workflow_id(round_id, PROVINCE)).describe()
        assert missing.value.status == RPCStatusCode.NOT_FOUND, round_id
        refused += 1
    async with stack.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(RoundRow)) == rounds_before

    case_id = strict.parked[Stage.COUNCIL_ASSESSMENT].case_id
    for new_due in ("5000-01-01T00:00:00+07:00", "9999-12-31T23:59:59+00:00"):
        body = {"filter": {"case_ids": [case_id]}, "reason": "x", "dry_run": False, "new_due_at": new_due}
        _refused(
            await stack.http.post("/v1/bulk/extend-due", json=body, headers=admin), "invalid_request", "new_due_at"
        )
        refused += 1
    body = _raw({"filter": {"case_ids": [case_id]}, "reason": "x", "dry_run": False}, add_working_days="NaN")
    resp = await stack.http.post(
        "/v1/bulk/extend-due", content=body, headers={**admin, "content-type": "application/json"}
    )
    _refused(resp, "invalid_request", "add_working_days")
    refused += 1

    officer = strict.parked[Stage.REGISTRATION].headers(ROLE_OF_STAGE[Stage.REGISTRATION])
    for key in ("0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "2027-01-01T00:00:00"):
        cursor = base64.urlsafe_b64encode(json.dumps({"sort": "due", "key": key, "id": "x"}).encode()).decode()
        resp = await stack.http.get("/v1/tasks", params={"cursor": cursor.rstrip("=")}, headers=officer)
        _refused(resp, "invalid_cursor", "cursor")
        refused += 1
    for key in ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"):  # the ends of the range, in UTC: a page, no error
        cursor = base64.urlsafe_b64encode(json.dumps({"sort": "due", "key": key, "id": "x"}).encode()).decode()
        resp = await stack.http.get("/v1/tasks", params={"cursor": cursor}, headers=officer)
        assert resp.status_code == 200, resp.text[:300]

    assert await snapshot(stack.sessions) == before
    fault_report(inputs=refused, refused=refused, state_changes=0, server_errors=0)


@pytest.mark.scenario(SCENARIO)
async def test_giant_numbers_on_the_web_form_answer_a_page_not_an_error(strict: Strict, fault_report: Any) -> None:
    parked = strict.parked[Stage.SELF_ASSESSMENT]
    token = parked.tokens[ROLE_OF_STAGE[Stage.SELF_ASSESSMENT]]
    before = await snapshot(strict.stack.sessions)
    async with httpx.AsyncClient(base_url=strict.stack.http.base_url, timeout=30) as web:
        signed_in = await web.post("/web/signin", data={"token": token})
        assert signed_in.status_code == 303, signed_in.text[:300]
        page = await web.get(f"/web/tasks/{parked.task_id}")
        assert page.status_code == 200, page.text[:300]
        token_field = csrf(page.text)
        scores = {f"score-{k}": str(v) for k, v in form_for(Stage.SELF_ASSESSMENT)["scores"].items()}
        forms = [
            {**scores, "score-1": GIANT},
            {**scores, f"score-{GIANT}": "3"},
            {**scores, "score-1": "7_4"},
            {**scores, "score-01": "3"},
        ]
        answers = []
        for form in forms:
            preview = await web.post(f"/web/tasks/{parked.task_id}/preview", data={**form, "csrf": token_field})
            assert preview.status_code == 200, preview.text[:300]
            submit = await web.post(
                f"/web/tasks/{parked.task_id}", data={**form, "csrf": token_field, "attempt": uuid.uuid4().hex}
            )
            assert submit.status_code == 422, submit.text[:300]
            answers += [preview.status_code, submit.status_code]
    assert await snapshot(strict.stack.sessions) == before
    fault_report(inputs=len(forms) * 2, server_errors=sum(1 for a in answers if a >= 500), state_changes=0)
