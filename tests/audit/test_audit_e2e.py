"""Cases decided on a real Temporal dev server and real PostgreSQL, then audited: archived at close, replayed from
the archive after Temporal forgot them, against changed code, verified against a rewritten journal, exported and
checked offline."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from audit.bundle import verify_bundle
from audit.chain import GENESIS, row_hash
from audit.service import AuditError, archive_case, replay_case, verify_case
from audit.store import load_journal
from db.models_audit import WorkflowHistoryRow
from domain.rounds import parse_round
from domain.stages import Stage
from services.rounds.opening import ensure_round
from tests.audit.changed_workflow import ChangedRecognitionCaseWorkflow
from tests.builders import HUMAN_STAGES, case_at_registration, complete_human_stages
from tests.support import Stack, form_for, full_scores, running_stack

ROOT = Path(__file__).resolve().parents[2]


async def decide(stack: Stack, case_id: str, forms: dict[Stage, dict[str, Any]]) -> dict[str, Any]:
    """Complete every human stage through the API; the case's result once it closes."""
    await complete_human_stages(stack, case_id, forms)
    result: dict[str, Any] = await asyncio.wait_for(stack.client.get_workflow_handle(case_id).result(), 30)
    return result


async def forget_in_temporal(client: Client, case_id: str) -> None:
    """Delete the case's execution and history from the server, as retention would."""
    await client.workflow_service.delete_workflow_execution(
        DeleteWorkflowExecutionRequest(
            namespace=client.namespace, workflow_execution=WorkflowExecution(workflow_id=case_id)
        )
    )
    for _ in range(200):
        try:
            await client.get_workflow_handle(case_id).describe()
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return
            raise
        await asyncio.sleep(0.05)
    raise AssertionError(f"Temporal still holds {case_id}")


async def test_a_closed_case_is_archived_and_replayed_from_the_archive_after_temporal_forgets_it(
    forgetful_temporal: WorkflowEnvironment,
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    async with running_stack(forgetful_temporal.client, database_url, sessions) as stack:
        case_id = await stack.start_case()
        result = await decide(stack, case_id, {stage: form_for(stage) for stage, _ in HUMAN_STAGES})
        assert result["outcome"] == "recognised"

        async with sessions() as session:
            archived = (
                (await session.execute(select(WorkflowHistoryRow).where(WorkflowHistoryRow.case_id == case_id)))
                .scalars()
                .all()
            )
            journal = await load_journal(session, case_id)
        assert len(archived) == 1
        assert archived[0].complete is False  # archived by the workflow itself, before its completion
        assert (archived[0].journal_head_seq, archived[0].journal_head_hash) == (journal[-1].seq, journal[-1].hash)

        resp = await stack.http.get(f"/v1/audit/cases/{case_id}/verify", headers=stack.headers("auditor"))
        assert resp.status_code == 200, resp.text
        assert resp.json()["ok"] is True and resp.json()["rows"] == len(journal)
        assert resp.json()["histories_checked"] == 1
        refused = await stack.http.get(f"/v1/audit/cases/{case_id}/verify", headers=stack.headers("commune_officer"))
        assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
        assert (await stack.http.get("/v1/audit/cases/nope/verify", headers=stack.headers("admin"))).status_code == 404

        await forget_in_temporal(stack.client, case_id)

        resp = await stack.http.post(f"/v1/audit/cases/{case_id}/replay", headers=stack.headers("auditor"))
        assert resp.status_code == 200, resp.text
        report = resp.json()
        assert (report["source"], report["replay_ok"], report["verdicts_match"], report["matches"]) == (
            "archive",
            True,
            True,
            True,
        ), report["summary"]
        decisions = report["decisions"]
        assert [d["seq"] for d in decisions] == [r.seq for r in journal]
        council = next(d for d in decisions if d["action"] == "council_assessment_completed")
        assert council["actor_role"] == "council_chair" and council["verdict"]["matches"] is True
        assert (
            council["verdict"]["recomputed"]["recognised"] is True and council["verdict"]["recomputed"]["total"] == 1000
        )
        decision = next(d for d in decisions if d["action"] == "decision_completed")
        assert (decision["actor_role"], decision["verdict"]["kind"], decision["verdict"]["matches"]) == (
            "chairman",
            "decision",
            True,
        )

        gone = await stack.http.post(f"/v1/audit/cases/{case_id}/archive", headers=stack.headers("admin"))
        assert (gone.status_code, gone.json()["code"]) == (404, "history_unavailable")

        changed = await replay_case(sessions, None, case_id, workflows=[ChangedRecognitionCaseWorkflow])
        assert changed.replay_ok is False and changed.matches is False
        assert changed.replay_failure is not None and "Nondeterminism" in changed.replay_failure
        assert "does not replay on the current code" in changed.summary

        exported = await stack.http.get(f"/v1/audit/cases/{case_id}/export", headers=stack.headers("auditor"))
        assert exported.status_code == 200, exported.text
        raw = exported.content
        report_b = verify_bundle(raw)
        assert report_b.ok, report_b.problems
        assert report_b.bundle_sha256 == exported.headers["x-bundle-sha256"]
        check_bundle_offline(raw, tmp_path / "bundle.json")


def check_bundle_offline(raw: bytes, path: Path) -> None:
    """`xptt audit verify-bundle` in a process with no database and no Temporal; then with one byte changed."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_URL")}
    env["TEMPORAL_ADDRESS"] = "127.0.0.1:9"  # nothing listens there: the check must not need it
    env["COLUMNS"] = "400"

    def run(data: bytes) -> subprocess.CompletedProcess[str]:
        path.write_bytes(data)
        return subprocess.run(
            [sys.executable, "-m", "cli.main", "audit", "verify-bundle", str(path)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    good = run(raw)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "verifies" in good.stdout
    # One byte changed anywhere: a digit of a score, a letter of a name, a hash, the structure.
    for at in (raw.index(b'"total":') + 8, raw.index(b"chairman") + 2, raw.index(b'"hash":"') + 20, len(raw) // 2):
        tampered = bytearray(raw)
        tampered[at] = ord("7") if tampered[at] != ord("7") else ord("8")
        assert not verify_bundle(bytes(tampered)).ok, f"a change at byte {at} went unnoticed"
    tampered = bytearray(raw)
    at = raw.index(b'"total":') + 8
    tampered[at] = ord("7") if tampered[at] != ord("7") else ord("8")
    bad = run(bytes(tampered))
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "DOES NOT verify" in bad.stdout
    path.unlink()


async def test_a_case_refused_under_qd34_2014_replays_every_decision_and_recomputes_its_verdict(
    forgetful_temporal: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    round_id = "qd34-2014:2018"
    async with running_stack(forgetful_temporal.client, database_url, sessions) as stack:
        async with sessions() as session, session.begin():
            await ensure_round(session, parse_round(round_id), "two-tier")
        case_id = await stack.start_case(round_id=round_id)
        scores = {**full_scores("qd34-2014"), "3": 0, "7": 10}
        forms = {stage: form_for(stage, rule_set_id="qd34-2014") for stage, _ in HUMAN_STAGES}
        forms[Stage.SELF_ASSESSMENT]["scores"] = scores
        forms[Stage.COUNCIL_ASSESSMENT]["scores"] = scores
        forms[Stage.DECISION] = {
            "recognised": False,
            "decision_number": "QĐ-77/UBND",
            "decision_date": "2018-11-30",
            "reasons": ["Tiêu chí 3 đạt 0 điểm"],
        }
        result = await decide(stack, case_id, forms)
        assert result["outcome"] == "not_recognised"

        report = await replay_case(sessions, stack.client, case_id)
        assert report.matches, report.summary
        assert (report.source, report.rule_set_id) == ("archive", "qd34-2014")
        council = next(d for d in report.decisions if d.action == "council_assessment_completed")
        assert council.verdict is not None and council.verdict.matches
        assert council.verdict.recomputed is not None
        assert council.verdict.recomputed["recognised"] is False
        assert ["zero_criterion", 3] in council.verdict.recomputed["reasons"]
        decision = next(d for d in report.decisions if d.action == "decision_completed")
        assert (decision.actor_role, decision.to_stage, decision.reason) == (
            "chairman",
            "closed",
            "Tiêu chí 3 đạt 0 điểm",
        )

        # Now the complete history, archived on demand, replaces the one the workflow stored.
        again = await archive_case(sessions, stack.client, case_id)
        assert again.replaced and again.complete

        # A superuser rewrites the council's scores in the journal and recomputes every hash after it: the chain
        # holds, but the archived history witnesses what was really recorded.
        async with sessions() as session:
            journal = await load_journal(session, case_id)
        council_seq = council.seq
        async with sessions() as session, session.begin():
            await session.execute(text("SET LOCAL session_replication_role = replica"))
            prev = GENESIS
            for rec in journal:
                values = rec.hashed_values()
                if rec.seq == council_seq:
                    values["payload"] = {**values["payload"], "scores": full_scores("qd34-2014")}
                digest = row_hash(values, prev)
                await session.execute(
                    text(
                        "UPDATE audit_events SET payload = CAST(:p AS jsonb), prev_hash = :prev, hash = :h "
                        "WHERE case_id = :c AND seq = :s"
                    ),
                    {
                        "p": __import__("json").dumps(values["payload"]),
                        "prev": prev,
                        "h": digest,
                        "c": case_id,
                        "s": rec.seq,
                    },
                )
                prev = digest
        verification = await verify_case(sessions, case_id)
        assert not verification.ok
        first = verification.first_problem
        assert first is not None
        assert (first.case_id, first.seq, first.kind) == (case_id, council_seq, "contradicts_history")
        assert "payload" in first.detail


async def test_a_case_without_any_history_is_reported_not_guessed(
    forgetful_temporal: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with case_at_registration(forgetful_temporal, database_url, sessions) as (stack, case_id, _):
        # Open, not archived: the live history is replayed.
        live = await replay_case(sessions, stack.client, case_id)
        assert (live.source, live.replay_ok, live.history_complete) == ("live", True, False)
        await forget_in_temporal(stack.client, case_id)
        with pytest.raises(AuditError, match="no archived history and Temporal no longer holds it"):
            await replay_case(sessions, stack.client, case_id)
