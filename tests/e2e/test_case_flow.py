"""A case from registration to the recognition decision through the HTTP API, on a real Temporal server and
real PostgreSQL: then the case row, one completed task per stage and one journal row per transition."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from db.models import AuditEventRow, CaseRow, CriterionScoreRow, TaskRow
from tests.builders import HUMAN_STAGES, case_at_registration, complete, complete_human_stages
from tests.support import running_stack
from workflows.case import RecognitionCaseWorkflow


async def test_case_runs_from_registration_to_recognition_through_the_api(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with running_stack(temporal_env.client, database_url, sessions) as stack:
        case_id = await stack.start_case()
        await complete_human_stages(stack, case_id)

        handle = temporal_env.client.get_workflow_handle(case_id)
        result = await handle.result()
        assert result["outcome"] == "recognised"
        if os.environ.get("XPTT_RECORD_HISTORY"):
            # Refresh the replay fixture: XPTT_RECORD_HISTORY=tests/histories/<name>.json pytest <this test>
            history = await handle.fetch_history()
            Path(os.environ["XPTT_RECORD_HISTORY"]).write_text(history.to_json())

        resp = await stack.http.get(f"/v1/cases/{case_id}", headers=stack.headers("auditor"))
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert (body["status"], body["outcome"], body["stage"]) == ("closed", "recognised", "closed")
        assert body["verdict"]["recognised"] is True
        assert body["verdict"]["total"] == 1000

    async with sessions() as session:
        case = await session.get(CaseRow, case_id)
        assert case is not None
        assert (case.status, case.outcome) == ("closed", "recognised")
        tasks = (await session.execute(select(TaskRow).where(TaskRow.case_id == case_id))).scalars().all()
        assert sorted(t.stage for t in tasks) == sorted(s.value for s, _ in HUMAN_STAGES)
        assert all(t.status == "completed" and t.completed_by for t in tasks)
        journal = (
            (
                await session.execute(
                    select(AuditEventRow).where(AuditEventRow.case_id == case_id).order_by(AuditEventRow.seq)
                )
            )
            .scalars()
            .all()
        )
        # opened + seven completed stages + the commendation check that closes the case
        assert [j.seq for j in journal] == list(range(1, 10))
        assert [j.to_stage for j in journal] == [
            "registration",
            "self_assessment",
            "council_assessment",
            "public_posting",
            "dossier_submission",
            "appraisal",
            "decision",
            "commendation",
            "closed",
        ]
        assert journal[-2].actor_role == "chairman"
        scores = (
            await session.execute(select(CriterionScoreRow).where(CriterionScoreRow.case_id == case_id))
        ).scalars()
        assert {(s.kind, s.criterion) for s in scores} == {(k, c) for k in ("self", "council") for c in range(1, 14)}


async def test_a_unit_that_declines_to_register_is_closed_not_registered(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with case_at_registration(temporal_env, database_url, sessions) as (stack, case_id, task):
        declined = {"registered": False, "note": "Chưa đủ điều kiện"}
        assert (await complete(stack, task, "commune_officer", declined))["outcome"] == "not_registered"
        result = await temporal_env.client.get_workflow_handle_for(RecognitionCaseWorkflow.run, case_id).result()
        assert result.outcome == "not_registered"
