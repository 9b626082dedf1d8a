"""An official who leaves, with open tasks given to them: on deactivation each task goes to another active holder of
its role over its unit, through the case's `reassign` Update signed for the administrator (the case's journal names
both); a task no one else can take stays open, and the board lists it as "no one holds this role"."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from db.models import AuditEventRow
from tests.officials.handover import assignee, give, register
from tests.support import PROVINCE, Stack, fresh_unit

SUCCESSOR = "hy-ke-nhiem"
ALONE = "hy-duy-nhat"


async def deactivate(stack: Stack, official_id: str) -> dict[str, Any]:
    resp = await stack.http.post(
        f"/v1/officials/{official_id}/deactivate", json={"reason": "nghỉ hưu"}, headers=stack.headers("admin")
    )
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    assert body["active"] is False
    return body


async def test_a_leaving_officials_tasks_go_to_another_holder_or_to_the_board(stack: Stack) -> None:
    officer = next(o.id for o in stack.officials if o.role.value == "commune_officer")
    admin = next(o.id for o in stack.officials if o.role.value == "admin")
    shared = await stack.start_case()
    lonely_unit = fresh_unit()
    lonely = await stack.start_case(unit_code=lonely_unit)
    for case_id in (shared, lonely):
        await stack.open_task(case_id, "admin", mine=False)
    await register(stack, SUCCESSOR, stack.unit_code)
    await register(stack, ALONE, lonely_unit)
    await give(stack, shared, officer)
    await give(stack, lonely, ALONE)

    gone = await deactivate(stack, officer)
    assert [(t["case_id"], t["to"]) for t in gone["reassigned"]] == [(shared, SUCCESSOR)] and gone["left_open"] == []
    await assignee(stack, shared, SUCCESSOR)
    async with stack.sessions() as session:
        row = await session.scalar(
            select(AuditEventRow)
            .where(AuditEventRow.case_id == shared, AuditEventRow.actor_id == admin)
            .order_by(AuditEventRow.seq.desc())
            .limit(1)
        )
    assert row is not None and row.payload["from"] == officer and row.payload["to"] == SUCCESSOR, row

    alone = await deactivate(stack, ALONE)
    assert alone["reassigned"] == []
    assert [(t["case_id"], t["to"], t["code"]) for t in alone["left_open"]] == [(lonely, None, "no_holder")]
    await assignee(stack, lonely, ALONE)  # left as it was: open, on the board
    resp = await stack.http.get(
        "/v1/board", params={"province": PROVINCE, "failing": "false"}, headers=stack.headers("admin")
    )
    assert resp.status_code == 200, resp.text
    assert {(i["reason"], i["case_id"]) for i in resp.json()["items"]} >= {("no_holder", lonely)}
    assert ("no_holder", shared) not in {(i["reason"], i["case_id"]) for i in resp.json()["items"]}
