"""Only the product's front doors act: Updates sent straight to Temporal, as anyone who reaches its frontend (or a
writable Temporal UI) could send them, on the real stack (worker and HTTP API on loopback, a real Temporal dev
server, real PostgreSQL).

Forged Updates are refused by the case's validators before anything is recorded: no assertion, a made-up
official, a wrong signature, an unknown key, a genuine assertion replayed on another task, payload, case, action or
update id, an expired one; the history holds no accepted Update for them and the journal no row. The same update id
sent again is Temporal's to deduplicate: one effect. An unsigned nudge is dropped, and a nudge sent again too.
Whoever holds the key still cannot hide a made-up actor: verify names the row.
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from audit.replay import replay_history
from audit.service import verify_case
from contracts import Actor, CompleteTaskInput, HoldInput, NudgeInput, WithdrawInput
from db.models import AuditEventRow
from domain.access import RoleScope
from domain.actor_assertion import FORMAT_V1, parse_key_ring, payload_digest, sign
from domain.stages import Role, Stage
from tests.builders import case_at_registration, complete
from tests.support import PROVINCE, Stack, form_for, fresh_unit, sign_json
from workflows import actor_keys
from workflows.case import RecognitionCaseWorkflow

SCENARIO = "8. forged Updates sent straight to Temporal: refused before anything is recorded; verify names them"
ATTACKER_RING = parse_key_ring("test-k1:" + "z" * 40)  # the test key's id, another secret


@dataclass
class Case:
    """The stack with one case at registration, and how to forge what reaches its workflow."""

    stack: Stack
    case_id: str
    task_id: str
    handle: WorkflowHandle[Any, Any]
    forged: int = 0

    def official(self, role: Role) -> str:
        return next(o.id for o in self.stack.officials if o.role == role)

    def actor(self, role: Role = Role.COMMUNE_OFFICER, official_id: str | None = None) -> Actor:
        """An official as the API would describe them: their id and the scope of their role."""
        unit = self.stack.unit_code if role in (Role.COMMUNE_OFFICER, Role.COUNCIL_CHAIR) else None
        scope = RoleScope(role=role, province_code=PROVINCE, unit_code=unit)
        return Actor(official_id=official_id or self.official(role), scopes=[scope])

    def completion(self, actor: Actor | None = None, **over: Any) -> dict[str, Any]:
        """The registration's completion as raw JSON: what the Temporal UI's or CLI's Update form sends."""
        inp = CompleteTaskInput(task_id=self.task_id, actor=actor or self.actor(), payload=form_for(Stage.REGISTRATION))
        return inp.model_dump(mode="json") | over

    def vouch(self, update: str, arg: Any, *, at: datetime | None = None) -> Any:
        """`arg` vouched for by the test key (the services' own signing) for this case, under a fresh update id."""
        return sign_json(update, arg, self.case_id, update_id=f"vouched-{uuid.uuid4()}", at=at)

    async def send(self, update: str, arg: Any) -> Any:
        """Send `arg` as Update `update` under the update id its assertion names, as the services send it."""
        return await self.handle.execute_update(update, arg, id=bound_to(arg))

    async def refusal(self, update: str, arg: Any, update_id: str | None = None) -> tuple[ApplicationError, str]:
        """Send `arg` as Update `update` under `update_id`, by default the one its assertion names (a forger's best
        chance: under any other, the assertion is `other_update`); the case's refusal and the update id it went
        with."""
        update_id = update_id or bound_to(arg) or f"forged-{uuid.uuid4()}"
        self.forged += 1
        with pytest.raises(WorkflowUpdateFailedError) as info:
            await self.handle.execute_update(update, arg, id=update_id)
        cause = info.value.cause
        assert isinstance(cause, ApplicationError), cause
        return cause, update_id

    async def unauthenticated(self, update: str, arg: Any, reason: str, update_id: str | None = None) -> None:
        """The case refuses `arg` for lack of a valid assertion (`reason`), and records nothing of it."""
        journal, accepted = await self.journal(), await accepted_updates(self.handle)
        cause, update_id = await self.refusal(update, arg, update_id)
        assert (cause.type, cause.message.split(":", 1)[0]) == ("unauthenticated", reason), cause.message
        assert await accepted_updates(self.handle) == accepted, f"{update_id}: the history accepted an update"
        assert await self.journal() == journal

    async def journal(self) -> list[tuple[int, str, str | None]]:
        async with self.stack.sessions() as session:
            rows = await session.execute(
                select(AuditEventRow.seq, AuditEventRow.action, AuditEventRow.actor_id)
                .where(AuditEventRow.case_id == self.case_id)
                .order_by(AuditEventRow.seq)
            )
            return [tuple(r) for r in rows.all()]  # type: ignore[misc]


def bound_to(arg: Any) -> str | None:
    """The update id `arg`'s assertion names, if it carries one."""
    try:
        update_id = arg["actor"]["assertion"]["update_id"]
    except (KeyError, TypeError):
        return None
    return update_id if isinstance(update_id, str) else None


def as_v1(history: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """`history` with every actor assertion in its inputs as format v1 carried it (no `format`, no `update_id`), and
    how many it rewrote."""
    stripped = 0

    def assertion(value: Any) -> Any:
        nonlocal stripped
        if isinstance(value, dict):
            if isinstance(value.get("assertion"), dict) and "update_id" in value["assertion"]:
                stripped += 1
                value = value | {"assertion": {k: v for k, v in value["assertion"].items() if k not in V2_FIELDS}}
            return {k: assertion(v) for k, v in value.items()}
        return [assertion(v) for v in value] if isinstance(value, list) else value

    def payloads(node: Any) -> Any:
        if isinstance(node, dict):
            if isinstance(node.get("data"), str) and isinstance(node.get("metadata"), dict):
                try:
                    decoded = json.loads(base64.b64decode(node["data"]))
                except ValueError:
                    return node
                rewritten = json.dumps(assertion(decoded), separators=(",", ":")).encode()
                return node | {"data": base64.b64encode(rewritten).decode()}
            return {k: payloads(v) for k, v in node.items()}
        return [payloads(v) for v in node] if isinstance(node, list) else node

    return payloads(history), stripped


V2_FIELDS = ("format", "update_id")


async def accepted_updates(handle: WorkflowHandle[Any, Any]) -> dict[str, tuple[str, Any]]:
    """Every Update the case's history accepted: update id → (Update name, its input as JSON)."""
    converter = pydantic_data_converter.payload_converter
    out = {}
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            request = event.workflow_execution_update_accepted_event_attributes.accepted_request
            (arg,) = converter.from_payloads(request.input.args.payloads, [dict])
            out[request.meta.update_id] = (request.input.name, arg)
    return out


@pytest.fixture
async def case(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Case]:
    async with case_at_registration(temporal_env, database_url, sessions) as (stack, case_id, task):
        handle = temporal_env.client.get_workflow_handle_for(RecognitionCaseWorkflow.run, case_id)
        yield Case(stack, case_id, task["id"], handle)


@pytest.mark.scenario(SCENARIO)
async def test_an_update_without_an_assertion_is_refused_before_anything_is_recorded(
    case: Case, fault_report: Any
) -> None:
    """The genuine officer and the right form, sent without the services' assertion: refused, no event."""
    await case.unauthenticated("complete_task", case.completion(), "missing")
    admin = case.actor(Role.ADMIN).model_dump(mode="json")
    for update in ("hold", "withdraw", "release"):
        await case.unauthenticated(update, {"actor": admin, "reason": "thanh tra"}, "missing")
    on_task = {"actor": admin, "reason": "r", "task_id": case.task_id}
    due = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    await case.unauthenticated("extend_due", on_task | {"new_due_at": due}, "missing")
    await case.unauthenticated("reassign", on_task | {"official_id": admin["official_id"]}, "missing")
    assert not await accepted_updates(case.handle)
    assert [a for _, a, _ in await case.journal()] == ["case_opened"]
    fault_report(target="no assertion", forged=case.forged, refused=case.forged, accepted=0, journal_rows=0)


@pytest.mark.scenario(SCENARIO)
async def test_a_made_up_official_is_refused(case: Case, fault_report: Any) -> None:
    """`forged-nobody` with a commune officer's scope: without an assertion, or carrying the genuine officer's."""
    nobody = case.actor(official_id="forged-nobody")
    await case.unauthenticated("complete_task", case.completion(nobody), "missing")
    genuine = case.vouch("complete_task", case.completion())
    lifted = genuine | {"actor": genuine["actor"] | {"official_id": "forged-nobody"}}
    await case.unauthenticated("complete_task", lifted, "bad_signature")
    admin_scope = {"role": "admin", "province_code": PROVINCE, "unit_code": None}
    widened = genuine | {"actor": genuine["actor"] | {"scopes": [*genuine["actor"]["scopes"], admin_scope]}}
    await case.unauthenticated("complete_task", widened, "bad_signature")
    fault_report(target="made-up official", forged=case.forged, refused=case.forged, accepted=0)


@pytest.mark.scenario(SCENARIO)
async def test_an_assertion_with_a_wrong_signature_or_key_is_refused(case: Case, fault_report: Any) -> None:
    completion = case.completion()
    model = CompleteTaskInput.model_validate(completion)

    def carrying(assertion: dict[str, Any]) -> dict[str, Any]:
        return completion | {"actor": completion["actor"] | {"assertion": assertion}}

    # Valid-looking: the key id the worker holds, the right claims, signed with a secret the worker does not hold.
    forged = sign(
        ATTACKER_RING,
        official_id=model.actor.official_id,
        scopes=model.actor.scopes,
        case_id=case.case_id,
        target=model.target(),
        payload_digest=payload_digest(model.signed_content()),
        update_id=f"forged-{uuid.uuid4()}",
        issued_at=datetime.now(UTC),
    )
    await case.unauthenticated("complete_task", carrying(forged.model_dump(mode="json")), "bad_signature")
    genuine = case.vouch("complete_task", completion)["actor"]["assertion"]
    await case.unauthenticated("complete_task", carrying(genuine | {"signature": "0" * 64}), "bad_signature")
    await case.unauthenticated("complete_task", carrying(genuine | {"key_id": "k9"}), "unknown_key")
    # The format before (no update id), as histories recorded before it carry it: no longer taken.
    v1 = {k: v for k, v in genuine.items() if k not in ("format", "update_id")}
    await case.unauthenticated("complete_task", carrying(v1), "unsupported_format")
    await case.unauthenticated("complete_task", carrying(v1 | {"format": FORMAT_V1}), "unsupported_format")
    fault_report(target="wrong signature, key or format", forged=case.forged, refused=case.forged, accepted=0)


@pytest.mark.scenario(SCENARIO)
async def test_a_genuine_assertion_replayed_elsewhere_is_refused(case: Case, fault_report: Any) -> None:
    """An assertion lifted from the history of a genuine completion (the read-only UI shows it), replayed on the
    next task, with another form, on another case; a hold's replayed as a withdrawal."""
    stack = case.stack
    await complete(stack, {"id": case.task_id}, "commune_officer", form_for(Stage.REGISTRATION))
    ((name, genuine),) = (await accepted_updates(case.handle)).values()
    assert name == "complete_task" and genuine["actor"]["assertion"] is not None
    nxt = await stack.open_task(case.case_id, "commune_officer")
    assessment = form_for(Stage.SELF_ASSESSMENT)
    moved = genuine | {"task_id": nxt["id"], "payload": assessment}
    await case.unauthenticated("complete_task", moved, "other_target", update_id=f"forged-{uuid.uuid4()}")

    # Signed for the self-assessment with one form, sent with another.
    signed = case.vouch("complete_task", moved)
    lower = {**assessment, "scores": {**assessment["scores"], "1": 0}}
    await case.unauthenticated("complete_task", signed | {"payload": lower}, "other_payload")

    # The same Update, vouched for this case, sent to another case.
    other_id = await stack.start_case(fresh_unit())
    other = stack.client.get_workflow_handle_for(RecognitionCaseWorkflow.run, other_id)
    for _ in range(100):
        if (await other.query(RecognitionCaseWorkflow.status)).open_task is not None:
            break
        await asyncio.sleep(0.05)
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await other.execute_update("complete_task", signed, id=f"forged-{uuid.uuid4()}")
    assert isinstance(info.value.cause, ApplicationError)
    assert info.value.cause.message.startswith("other_case:"), info.value.cause.message
    assert not await accepted_updates(other)

    # A hold's assertion (input: the reason alone) sent as a withdrawal with the same reason.
    admin = case.actor(Role.ADMIN)
    hold = case.vouch("hold", HoldInput(actor=admin, reason="thanh tra").model_dump(mode="json"))
    await case.unauthenticated("withdraw", hold, "other_target")
    assert WithdrawInput.model_validate(hold).signed_content() == HoldInput.model_validate(hold).signed_content()
    fault_report(target="replayed assertion", forged=case.forged + 1, refused=case.forged + 1, accepted=0)


@pytest.mark.scenario(SCENARIO)
async def test_a_genuine_assertion_sent_again_under_another_update_id_is_refused(case: Case, fault_report: Any) -> None:
    """Each assertion is for the update id the services send it with. Lifted from the history within its time and
    sent again under another id (re-holding a case its administrator released; a second identical completion), it
    is refused before anything is recorded. Under its own id it is Temporal's deduplication: the first outcome
    again, no second effect."""
    stack, admin = case.stack, case.stack.headers("admin")
    body = {"filter": {"province": PROVINCE, "case_ids": [case.case_id]}, "dry_run": False, "reason": "thanh tra"}
    held = await stack.http.post("/v1/bulk/hold", json=body, headers=admin)
    assert (held.status_code, held.json()["applied"]) == (200, 1), held.text
    released = await stack.http.post("/v1/bulk/release", json=body | {"reason": "xong"}, headers=admin)
    assert (released.status_code, released.json()["applied"]) == (200, 1), released.text
    updates, journal = await accepted_updates(case.handle), await case.journal()
    hold_id = f"bulk-{held.json()['operation_id']}-hold-{case.case_id}"
    name, hold = updates[hold_id]
    assert name == "hold" and bound_to(hold) == hold_id  # the services signed it for the id they sent it with

    await case.unauthenticated("hold", hold, "other_update", update_id=f"forged-{uuid.uuid4()}")
    first = await case.handle.execute_update("hold", hold, id=hold_id)  # a retry: the outcome it had
    assert first["on_hold"] is True
    assert not (await case.handle.query(RecognitionCaseWorkflow.status)).on_hold  # the case stays released
    assert (await accepted_updates(case.handle), await case.journal()) == (updates, journal)

    # A completion signed for one update id: refused under another, taken under its own, once however often sent.
    completion = case.vouch("complete_task", case.completion())
    await case.unauthenticated("complete_task", completion, "other_update", update_id=f"forged-{uuid.uuid4()}")
    results = [await case.send("complete_task", completion) for _ in range(2)]
    assert results[0] == results[1] and results[0]["stage"] == Stage.SELF_ASSESSMENT.value, results
    officer = case.official(Role.COMMUNE_OFFICER)
    assert [(a, who) for _, a, who in (await case.journal())[len(journal) :]] == [("registration_completed", officer)]
    assert set(await accepted_updates(case.handle)) == set(updates) | {bound_to(completion)}
    # Sent again under another id once the task moved on: the assertion is refused before the task is looked at.
    await case.unauthenticated("complete_task", completion, "other_update", update_id=f"forged-{uuid.uuid4()}")

    # Validators do not run on replay: the history replays, and so does the same history as the format before
    # recorded it (assertions without `format` and `update_id`).
    history = (await case.handle.fetch_history()).to_json_dict()
    v1, stripped = as_v1(history)
    assert stripped == 3  # the hold, the release, the completion
    for recorded in (history, v1):
        replayed = await replay_history(case.case_id, recorded)
        assert replayed.ok, replayed.failure
    fault_report(
        target="assertion under another update id",
        forged=case.forged,
        refused=case.forged,
        accepted=0,
        same_id_resent=2,
        second_effects=0,
    )


@pytest.mark.scenario(SCENARIO)
async def test_an_expired_assertion_is_refused(case: Case, fault_report: Any) -> None:
    now = datetime.now(UTC)
    completion = case.completion()
    stale = case.vouch("complete_task", completion, at=now - timedelta(minutes=11))
    await case.unauthenticated("complete_task", stale, "expired")
    early = case.vouch("complete_task", completion, at=now + timedelta(minutes=11))
    await case.unauthenticated("complete_task", early, "not_yet_valid")
    # Within the window (clocks of the API's host and Temporal's differ), the same Update is taken.
    recent = case.vouch("complete_task", completion, at=now - timedelta(minutes=9))
    result = await case.send("complete_task", recent)
    assert result["stage"] == Stage.SELF_ASSESSMENT.value
    fault_report(target="expired assertion", forged=case.forged, refused=case.forged, accepted=0, in_window=1)


async def _settled_journal(case: Case, rows: int, timeout: float = 10) -> list[tuple[int, str, str | None]]:
    deadline = asyncio.get_running_loop().time() + timeout
    while (journal := await case.journal()) and len(journal) < rows:
        if asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.05)
    return journal


async def _history(handle: WorkflowHandle[Any, Any]) -> list[Any]:
    return [e async for e in handle.fetch_history_events()]


async def _settled(handle: WorkflowHandle[Any, Any], after: int) -> list[Any]:
    """The history once the worker has taken every event after the first `after` (a workflow task completed or
    failed, and none pending)."""
    pending = {EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED}
    for _ in range(200):
        events = await _history(handle)
        tail = [e.event_type for e in events[after:]]
        done = {EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED}
        if done & set(tail) and tail[-1] not in pending:
            return events
        await asyncio.sleep(0.05)
    raise AssertionError("the case's workflow task did not complete")


@pytest.mark.scenario(SCENARIO)
async def test_an_unsigned_nudge_is_dropped_and_a_vouched_one_is_taken_once(case: Case, fault_report: Any) -> None:
    """A signal cannot be refused before it is recorded: the case drops a nudge nobody vouched for, records nothing
    of it, and keeps working. A signal has no update id: the assertion names the nudge's own, and the same nudge
    sent again is dropped."""
    admin = case.actor(Role.ADMIN)
    unsigned = NudgeInput(actor=admin, task_id=case.task_id).model_dump(mode="json")
    forged = case.vouch("nudge", unsigned)
    forged["actor"]["official_id"] = "forged-nobody"

    async def dropped(arg: Any) -> None:
        before = len(await _history(case.handle))
        await case.handle.signal("nudge", arg)
        events = await _settled(case.handle, before)
        tail = [e.event_type for e in events[before:]]
        assert EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED not in tail
        assert EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED not in tail  # nothing recorded

    for arg in (unsigned, forged):
        await dropped(arg)
    assert [a for _, a, _ in await case.journal()] == ["case_opened"]
    vouched = case.vouch("nudge", unsigned)
    await case.handle.signal("nudge", vouched)
    journal = await _settled_journal(case, 2)
    assert [(a, who) for _, a, who in journal] == [("case_opened", None), ("task_nudged", admin.official_id)]
    await dropped(vouched)  # the same nudge again, within its time
    assert await case.journal() == journal

    # The services name a bulk reminder's nudge after its run: the run sent again under its Idempotency-Key reminds
    # once. Signals are taken in order: once a last nudge, by another admin, is in, the repeat before it was dropped.
    remind = {"filter": {"province": PROVINCE, "case_ids": [case.case_id]}, "dry_run": False}
    headers = case.stack.headers("admin") | {"Idempotency-Key": f"remind-{uuid.uuid4()}"}
    for _ in range(2):
        resp = await case.stack.http.post("/v1/bulk/remind", json=remind, headers=headers)
        assert (resp.status_code, resp.json()["applied"]) == (200, 1), resp.text
    last = case.actor(Role.ADMIN, official_id="another-admin")
    await case.handle.signal("nudge", case.vouch("nudge", unsigned | {"actor": last.model_dump(mode="json")}))
    journal = await _settled_journal(case, 4)
    nudged = [(a, who) for _, a, who in journal[1:]]
    assert nudged == [("task_nudged", admin.official_id)] * 2 + [("task_nudged", last.official_id)], journal

    # The verdicts are in the history: a process that holds no key (an auditor's replay) replays it as it ran.
    history = (await case.handle.fetch_history()).to_json_dict()
    ring, max_age = actor_keys.installed()
    try:
        actor_keys.install(None)
        replayed = await replay_history(case.case_id, history)
    finally:
        actor_keys.install(ring, max_age=max_age)
    assert replayed.ok, replayed.failure
    fault_report(
        target="nudge signal",
        forged=2,
        dropped=2,
        journal_rows=0,
        vouched_taken=3,
        sent_again_dropped=2,
        replayed_without_keys=1,
    )


@pytest.mark.scenario(SCENARIO)
async def test_verify_names_a_row_whose_actor_does_not_exist_or_held_no_such_role(
    case: Case, fault_report: Any
) -> None:
    """A key holder (the API, the CLI, an operator's shell) can vouch for anyone; the journal's verification still
    names a row by an official who does not exist, or who holds no such role over the unit."""
    ghost = case.actor(official_id="ghost-official")
    await case.send("complete_task", case.vouch("complete_task", case.completion(ghost)))
    found = await verify_case(case.stack.sessions, case.case_id)
    assert found.first_problem is not None and not found.ok
    assert (found.first_problem.seq, found.first_problem.kind) == (2, "unknown_actor"), found.summary()
    assert "ghost-official" in found.first_problem.detail

    # The council chair, claiming the commune officer's role they do not hold, completes the self-assessment.
    nxt = await case.stack.open_task(case.case_id, "commune_officer")
    chair = case.actor(Role.COMMUNE_OFFICER, official_id=case.official(Role.COUNCIL_CHAIR))
    inp = CompleteTaskInput(task_id=nxt["id"], actor=chair, payload=form_for(Stage.SELF_ASSESSMENT))
    await case.send("complete_task", case.vouch("complete_task", inp.model_dump(mode="json")))
    found = await verify_case(case.stack.sessions, case.case_id)
    assert [(p.seq, p.kind) for p in found.problems] == [(2, "unknown_actor"), (3, "actor_without_role")]
    assert f"official {chair.official_id} holds no role commune_officer" in found.problems[1].detail

    auditor = case.stack.headers("auditor")
    resp = await case.stack.http.get(f"/v1/audit/cases/{case.case_id}/verify", headers=auditor)
    assert resp.status_code == 200 and resp.json()["ok"] is False, resp.text
    assert [(p["seq"], p["kind"]) for p in resp.json()["problems"]] == [(2, "unknown_actor"), (3, "actor_without_role")]
    async with case.stack.sessions() as session:
        rows = await session.scalar(
            select(func.count()).select_from(AuditEventRow).where(AuditEventRow.case_id == case.case_id)
        )
    fault_report(target="verify: actors", rows=rows, named=2, missed=0)
