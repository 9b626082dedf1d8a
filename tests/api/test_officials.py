"""What an official sees of a task: its case, the form it expects (the pinned rule set's criteria and maxima for the
scoring stages), whether they may complete it; the timeline of the case afterwards; their in-app notifications."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from domain.rulesets import load_rule_set
from domain.stages import Stage
from tests.api.helpers import problem
from tests.builders import case_at_registration, complete
from tests.support import form_for


async def test_task_detail_carries_the_form_and_the_pinned_criteria_and_the_timeline_the_decisions(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    rule_set = load_rule_set("qd06-2019")
    async with case_at_registration(temporal_env, database_url, sessions) as (stack, case_id, task):
        detail = (await stack.http.get(f"/v1/tasks/{task['id']}", headers=stack.headers("commune_officer"))).json()
        assert detail["case"]["id"] == case_id and detail["case"]["rule_set_id"] == "qd06-2019"
        assert detail["form"]["stage"] == "registration" and detail["form"]["scoring"] is None
        assert detail["form"]["json_schema"]["required"] == ["registered"]
        assert detail["may_complete"] is True and detail["overdue"] is False
        council = await stack.http.get(f"/v1/tasks/{task['id']}", headers=stack.headers("council_chair"))
        assert council.json()["may_complete"] is False

        await complete(stack, task, "commune_officer", form_for(Stage.REGISTRATION))
        task = await stack.open_task(case_id, "commune_officer")
        form = (await stack.http.get(f"/v1/tasks/{task['id']}", headers=stack.headers("commune_officer"))).json()[
            "form"
        ]
        assert form["stage"] == "self_assessment"
        scoring = form["scoring"]
        assert scoring["rule_set_id"] == "qd06-2019" and scoring["max_total"] == rule_set.max_total
        assert scoring["threshold"] == rule_set.threshold("other")  # type: ignore[arg-type]
        assert [(c["number"], c["max_points"]) for c in scoring["criteria"]] == [
            (c.number, c.max_points) for c in rule_set.criteria
        ]
        assert "scores" in form["json_schema"]["properties"]

        scores = form_for(Stage.SELF_ASSESSMENT)
        await complete(stack, task, "commune_officer", scores)
        task = await stack.open_task(case_id, "council_chair")
        form = (await stack.http.get(f"/v1/tasks/{task['id']}", headers=stack.headers("council_chair"))).json()["form"]
        assert form["stage"] == "council_assessment"
        assert {str(k): v for k, v in form["scoring"]["prefill"].items()} == scores["scores"]
        assert form["open_objections"] == []

        timeline = (await stack.http.get(f"/v1/cases/{case_id}/timeline", headers=stack.headers("auditor"))).json()
        events = timeline["events"]
        assert [e["action"] for e in events if e["kind"] != "notification"][:3] == [
            "case_opened",
            "registration_completed",
            "self_assessment_completed",
        ]
        decision = next(e for e in events if e["action"] == "self_assessment_completed")
        assert decision["kind"] == "decision" and decision["actor_id"] == f"demo-officer-{stack.unit_code}"
        assert decision["payload"]["scores"] == scores["scores"]
        assert timeline["links"]["export"].startswith("/v1/audit/cases/")
        # the commune officer reads their own case's timeline; nobody reads another unit's
        assert (
            await stack.http.get(f"/v1/cases/{case_id}/timeline", headers=stack.headers("commune_officer"))
        ).status_code == 200

        # the validator's refusal comes back with its reason and field, as before
        bad = form_for(Stage.COUNCIL_ASSESSMENT)
        bad["scores"] = {**bad["scores"], "1": 10_000}
        body = problem(
            await stack.http.post(f"/v1/tasks/{task['id']}/complete", json=bad, headers=stack.headers("council_chair")),
            422,
            "invalid_payload",
        )
        assert body["field"] == "scores.1"


async def test_my_notifications_list_and_mark_read_only_my_own(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with case_at_registration(temporal_env, database_url, sessions) as (stack, case_id, _):
        deadline = asyncio.get_running_loop().time() + 15
        while True:
            mine = (await stack.http.get("/v1/me/notifications", headers=stack.headers("commune_officer"))).json()
            if mine["unread"] or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.2)
        assert mine["unread"] >= 1, mine
        note = mine["items"][0]
        assert note["case_id"] == case_id and note["read_at"] is None and note["subject"]

        # someone else cannot mark it read: their request marks nothing of mine
        other = await stack.http.post(
            "/v1/me/notifications/read", json={"ids": [note["id"]]}, headers=stack.headers("council_chair")
        )
        assert other.json()["marked"] == []
        marked = await stack.http.post(
            "/v1/me/notifications/read", json={"ids": [note["id"]]}, headers=stack.headers("commune_officer")
        )
        assert marked.json()["marked"] == [note["id"]] and marked.json()["unread"] == mine["unread"] - 1
        again = await stack.http.post(
            "/v1/me/notifications/read", json={"ids": [note["id"]]}, headers=stack.headers("commune_officer")
        )
        assert again.json()["marked"] == []  # marking twice changes nothing
        unread = await stack.http.get(
            "/v1/me/notifications", params={"unread": "true"}, headers=stack.headers("commune_officer")
        )
        assert note["id"] not in {n["id"] for n in unread.json()["items"]}
        problem(
            await stack.http.post(
                "/v1/me/notifications/read", json={"ids": []}, headers=stack.headers("commune_officer")
            ),
            422,
            "invalid_request",
        )
