"""Idempotency-Key: the same key with the same body answers the first result and changes nothing twice; the same key
with another body is refused (422 `idempotency_key_mismatch`), for task completion and the bulk actions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from db.models import AuditEventRow, IdempotencyKeyRow
from domain.stages import Stage
from services.idempotency import fingerprint
from tests.api.helpers import problem
from tests.support import Stack, form_for


async def _journal(stack: Stack, case_id: str) -> int:
    async with stack.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(AuditEventRow).where(AuditEventRow.case_id == case_id)
        )
    return int(count or 0)


def test_a_fingerprint_does_not_depend_on_key_order_or_spacing() -> None:
    assert fingerprint({"a": 1, "b": [1, "x"]}) == fingerprint({"b": [1, "x"], "a": 1})
    assert fingerprint({"a": 1}) != fingerprint({"a": 2}) != fingerprint({"a": "1"})


async def test_the_same_key_with_another_body_is_refused_and_with_the_same_body_answers_the_first_result(
    stack: Stack,
) -> None:
    case_id = await stack.start_case()
    task = await stack.open_task(case_id, "commune_officer")
    url = f"/v1/tasks/{task['id']}/complete"
    officer = stack.headers("commune_officer")
    first_body = form_for(Stage.REGISTRATION)

    # another body under a key before anything completed: the first body stands, the second is refused
    refused_key = {**officer, "Idempotency-Key": "attempt-0"}
    bad = problem(await stack.http.post(url, json={"registered": "yes"}, headers=refused_key), 422)
    assert bad["code"] == "invalid_payload"  # a bad form: refused by the case, with the key now taken
    taken = problem(await stack.http.post(url, json=first_body, headers=refused_key), 422)
    assert (taken["code"], taken["field"]) == ("idempotency_key_mismatch", "Idempotency-Key"), taken

    headers = {**officer, "Idempotency-Key": "attempt-1"}
    first = await stack.http.post(url, json=first_body, headers=headers)
    assert first.status_code == 200, first.text
    journal = await _journal(stack, case_id)

    again = await stack.http.post(url, json=dict(reversed(list(first_body.items()))), headers=headers)
    assert again.status_code == 200 and again.json() == first.json()  # same body, keys in another order
    other = problem(
        await stack.http.post(url, json={**first_body, "note": "khác"}, headers=headers),
        422,
        "idempotency_key_mismatch",
    )
    assert other["field"] == "Idempotency-Key" and "another body" in other["detail"]
    declined = problem(await stack.http.post(url, json={"registered": False}, headers=headers), 422)
    assert declined["code"] == "idempotency_key_mismatch"
    assert await _journal(stack, case_id) == journal  # neither retry changed the case

    # bulk: a dry run takes no key; an applied request does
    admin = {**stack.headers("admin"), "Idempotency-Key": "bulk-extend-1"}
    new_due = (datetime.now(UTC) + timedelta(days=20)).replace(microsecond=0).isoformat()
    extend: dict[str, Any] = {"filter": {"case_ids": [case_id]}, "reason": "Tết", "new_due_at": new_due}
    dry = await stack.http.post("/v1/bulk/extend-due", json={**extend, "reason": "đếm trước"}, headers=admin)
    assert dry.status_code == 200, dry.text
    applied = await stack.http.post("/v1/bulk/extend-due", json={**extend, "dry_run": False}, headers=admin)
    assert applied.status_code == 200 and applied.json()["applied"] == 1, applied.text
    moved = await _journal(stack, case_id)
    retried = await stack.http.post("/v1/bulk/extend-due", json={**extend, "dry_run": False}, headers=admin)
    assert retried.status_code == 200, retried.text
    counts = ("operation_id", "matched", "applied", "refused", "failed")
    assert [retried.json()[k] for k in counts] == [applied.json()[k] for k in counts]  # the same update ids
    mismatch = problem(
        await stack.http.post(
            "/v1/bulk/extend-due", json={**extend, "dry_run": False, "reason": "lý do khác"}, headers=admin
        ),
        422,
        "idempotency_key_mismatch",
    )
    assert mismatch["field"] == "Idempotency-Key"
    assert await _journal(stack, case_id) == moved == journal + 1

    async with stack.sessions() as session:
        routes = set((await session.execute(select(IdempotencyKeyRow.route))).scalars())
    assert routes == {f"POST /v1/tasks/{task['id']}/complete", "POST /v1/bulk/extend-due"}
