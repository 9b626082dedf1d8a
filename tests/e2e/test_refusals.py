"""Bad input through the API: each gets a clear 4xx problem naming the reason, and changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from db.models import AuditEventRow, TaskRow
from domain.stages import Stage
from tests.api.helpers import problem
from tests.builders import case_at_registration, post_completion
from tests.support import Stack, form_for, fresh_unit


async def _journal_and_tasks(stack: Stack, case_id: str) -> tuple[int, list[tuple[str, str]]]:
    async with stack.sessions() as session:
        journal = await session.scalar(
            select(func.count()).select_from(AuditEventRow).where(AuditEventRow.case_id == case_id)
        )
        tasks = (
            await session.execute(
                select(TaskRow.id, TaskRow.status).where(TaskRow.case_id == case_id).order_by(TaskRow.id)
            )
        ).all()
    return int(journal or 0), [(t, s) for t, s in tasks]


async def test_bad_submissions_are_refused_with_a_reason_and_change_nothing(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with case_at_registration(temporal_env, database_url, sessions) as (stack, case_id, task):
        url = f"/v1/tasks/{task['id']}/complete"
        before = await _journal_and_tasks(stack, case_id)

        # a wrong role: the council chair of the same unit cannot register the unit
        body = problem(
            await stack.http.post(url, json=form_for(Stage.REGISTRATION), headers=stack.headers("council_chair")),
            403,
            "forbidden",
        )
        assert "commune_officer" in body["detail"]
        # an auditor reads but never acts
        problem(
            await stack.http.post(url, json=form_for(Stage.REGISTRATION), headers=stack.headers("auditor")),
            403,
            "forbidden",
        )
        # a malformed payload: unknown field, wrong type, missing field
        body = problem(
            await stack.http.post(url, json={"registered": True, "extra": 1}, headers=stack.headers("commune_officer")),
            422,
            "invalid_payload",
        )
        assert body["field"] == "extra"
        body = problem(
            await stack.http.post(url, json={"registered": "perhaps"}, headers=stack.headers("commune_officer")),
            422,
            "invalid_payload",
        )
        assert body["field"] == "registered"
        problem(await stack.http.post(url, json={}, headers=stack.headers("commune_officer")), 422, "invalid_payload")
        problem(
            await stack.http.post(
                url,
                content=b"not json",
                headers={**stack.headers("commune_officer"), "content-type": "application/json"},
            ),
            422,
            "invalid_request",
        )
        # no token, a forged token
        problem(await stack.http.post(url, json=form_for(Stage.REGISTRATION)), 401, "unauthenticated")
        problem(
            await stack.http.post(
                url, json=form_for(Stage.REGISTRATION), headers={"Authorization": "Bearer abc.def.ghi"}
            ),
            401,
            "invalid_token",
        )
        # a task that does not exist
        problem(
            await stack.http.post("/v1/tasks/nope/complete", json={}, headers=stack.headers("commune_officer")),
            404,
            "task_not_found",
        )

        assert await _journal_and_tasks(stack, case_id) == before

        # the right official moves the case on; the completed task cannot be completed again
        resp = await stack.http.post(url, json=form_for(Stage.REGISTRATION), headers=stack.headers("commune_officer"))
        assert resp.status_code == 200, resp.text
        after_registration = await _journal_and_tasks(stack, case_id)
        problem(
            await stack.http.post(url, json=form_for(Stage.REGISTRATION), headers=stack.headers("commune_officer")),
            409,
            "task_not_open",
        )

        # scores out of range or incomplete name the criterion
        task = await stack.open_task(case_id, "commune_officer")
        url = f"/v1/tasks/{task['id']}/complete"
        too_many = form_for(Stage.SELF_ASSESSMENT)
        too_many["scores"] = {**too_many["scores"], "6": 126}
        body = problem(
            await stack.http.post(url, json=too_many, headers=stack.headers("commune_officer")), 422, "invalid_payload"
        )
        assert body["field"] == "scores.6"
        missing = form_for(Stage.SELF_ASSESSMENT)
        del missing["scores"]["3"]
        body = problem(
            await stack.http.post(url, json=missing, headers=stack.headers("commune_officer")), 422, "invalid_payload"
        )
        assert "3" in body["detail"]
        assert await _journal_and_tasks(stack, case_id) == after_registration


async def test_another_units_task_is_not_visible_nor_completable(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with case_at_registration(temporal_env, database_url, sessions) as (stack, _, _):
        other_case = await stack.start_case(unit_code=fresh_unit())
        other_task = await stack.open_task(other_case, "admin", mine=False)  # the province's admin sees every unit
        listed = (
            await stack.http.get("/v1/tasks", params={"mine": "true"}, headers=stack.headers("commune_officer"))
        ).json()
        assert other_case not in {t["case_id"] for t in listed}
        before = await _journal_and_tasks(stack, other_case)
        refused = await post_completion(stack, other_task, "commune_officer", form_for(Stage.REGISTRATION))
        problem(refused, 404, "task_not_found")
        problem(
            await stack.http.get(f"/v1/cases/{other_case}", headers=stack.headers("commune_officer")),
            404,
            "case_not_found",
        )
        assert await _journal_and_tasks(stack, other_case) == before
