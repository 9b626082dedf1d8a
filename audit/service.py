"""What `xptt audit` and the /v1/audit routes do: verify, archive, replay and export a case.

Each function takes the session factory (and the Temporal client where it needs one) and opens its own, read-only
session; archiving is the only write, through `activities.archive.archive_case_history`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import structlog
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from activities.archive import archive_case_history
from audit.bundle import build_bundle
from audit.chain import Finding, JournalRecord
from audit.recompute import DecisionLine, Recomputation, recompute
from audit.replay import replay_history
from audit.store import (
    case_anchors,
    case_provinces,
    load_case,
    load_histories,
    load_journal,
    officials_on_record,
    stream_journals,
)
from audit.verify import CaseVerification, HeadAnchor, verify_records
from audit.witness import compare_with_history, history_facts, witnesses
from contracts import ArchiveHistoryInput, ArchiveHistoryResult
from db.models import CaseRow
from db.models_audit import WorkflowHistoryRow
from services.errors import Refusal

log = structlog.get_logger(__name__)


class AuditError(Refusal):
    """A request the audit cannot serve; `code` is stable (the API's problem code)."""

    def __init__(self, code: str, message: str, status: int = 404) -> None:
        super().__init__(status, code, message)
        self.message = message


def _anchors(rows: Sequence[WorkflowHistoryRow]) -> list[HeadAnchor]:
    return [
        HeadAnchor(source=f"archive of run {h.run_id}", seq=h.journal_head_seq, hash=h.journal_head_hash)
        for h in rows
        if h.journal_head_seq is not None and h.journal_head_hash is not None
    ]


async def _case(session: AsyncSession, case_id: str) -> CaseRow:
    case = await load_case(session, case_id)
    if case is None:
        raise AuditError("case_not_found", f"no case {case_id}")
    return case


async def verify_case(sessions: async_sessionmaker[AsyncSession], case_id: str) -> CaseVerification:
    """The chain, the anchors, every archived history's witnesses and every row's actor for one case (actors
    against the officials and role assignments as they stand: assignments carry no validity dates yet)."""
    async with sessions() as session:
        case = await _case(session, case_id)
        records = await load_journal(session, case_id)
        archived = await load_histories(session, case_id)
        officials = await officials_on_record(session, {r.actor_id for r in records if r.actor_id is not None})
    result = verify_records(
        case_id,
        records,
        last_seq=case.last_seq,
        anchors=_anchors(archived),
        histories=[(h.run_id, h.history) for h in archived],
        actors=(case.province_code, officials),
    )
    log.info("journal_verified", case_id=case_id, rows=result.rows, ok=result.ok)
    return result


async def verify_all(
    sessions: async_sessionmaker[AsyncSession], *, progress: Callable[[int], None] | None = None
) -> list[CaseVerification]:
    """Every case: chain, anchors and actors (archived histories' witnesses: `verify_case`), in one ordered pass."""
    async with sessions() as session:
        anchors = await case_anchors(session)
        provinces = await case_provinces(session)
        officials = await officials_on_record(session)
        results: list[CaseVerification] = []
        seen: set[str] = set()
        async for case_id, records in stream_journals(session):
            last_seq, heads = anchors.get(case_id, (None, []))
            results.append(
                verify_records(
                    case_id,
                    records,
                    last_seq=last_seq,
                    anchors=[
                        HeadAnchor(source=f"archive of run {run}", seq=seq, hash=digest)
                        for run, seq, digest in heads
                        if seq is not None and digest is not None
                    ],
                    actors=(provinces[case_id], officials) if case_id in provinces else None,
                )
            )
            seen.add(case_id)
            if progress:
                progress(len(records))
    for case_id, (last_seq, _) in anchors.items():
        if case_id not in seen and last_seq > 0:  # a case whose journal is gone altogether
            results.append(verify_records(case_id, [], last_seq=last_seq))
    results.sort(key=lambda r: r.case_id)
    broken = sum(not r.ok for r in results)
    log.info("journals_verified", cases=len(results), broken=broken)
    return results


async def archive_case(
    sessions: async_sessionmaker[AsyncSession], client: Client, case_id: str
) -> ArchiveHistoryResult:
    """Fetch the case's history (its current run) from Temporal now and keep it if it is the most complete yet."""
    async with sessions() as session:
        case = await _case(session, case_id)
    try:
        return await archive_case_history(
            client,
            sessions,
            ArchiveHistoryInput(case_id=case_id, workflow_id=case.id, run_id=case.run_id),
            now=datetime.now(UTC),
        )
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise AuditError(
                "history_unavailable", f"Temporal no longer holds the history of case {case_id} (run {case.run_id})"
            ) from None
        raise


class ReplayReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    case_id: str
    source: Literal["archive", "live"]
    workflow_id: str
    run_id: str | None
    history_sha256: str
    event_count: int
    history_complete: bool
    replay_ok: bool
    replay_failure: str | None
    rule_set_id: str
    decisions: list[DecisionLine]
    verdicts_checked: int
    verdicts_match: bool
    journal_problems: list[Finding]  # the journal against this history
    matches: bool  # the replay, every recomputed verdict and the journal agree with what was recorded
    summary: str


async def _history_for_replay(
    sessions: async_sessionmaker[AsyncSession], client: Client | None, case: CaseRow
) -> tuple[Literal["archive", "live"], str | None, dict[str, Any]]:
    async with sessions() as session:
        archived = await load_histories(session, case.id)
    own = [h for h in archived if h.run_id == case.run_id] or archived
    if own:
        best = max(own, key=lambda h: h.event_count)
        return "archive", best.run_id, best.history
    if client is None:
        raise AuditError("history_unavailable", f"case {case.id} has no archived history and no Temporal to ask")
    try:
        history = await client.get_workflow_handle(case.id, run_id=case.run_id).fetch_history()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise AuditError(
                "history_unavailable",
                f"case {case.id} has no archived history and Temporal no longer holds it (run {case.run_id})",
            ) from None
        raise
    return "live", history.run_id, history.to_json_dict()


async def replay_case(
    sessions: async_sessionmaker[AsyncSession],
    client: Client | None,
    case_id: str,
    *,
    workflows: Sequence[type] | None = None,
) -> ReplayReport:
    """Replay the archived (else live) history on this build's workflow code; list and recompute the decisions."""
    async with sessions() as session:
        case = await _case(session, case_id)
        records = await load_journal(session, case_id)
    source, run_id, history = await _history_for_replay(sessions, client, case)
    facts = history_facts(history)
    outcome = await replay_history(case.id, history, workflows=workflows)
    again = _recompute(case, records)
    problems = compare_with_history(case_id, records, witnesses(history), run_id=run_id)
    matches = outcome.ok and again.verdicts_match and not problems
    if matches:
        summary = (
            f"the {source} history ({facts.event_count} events) replays on the current workflow code, and all "
            f"{again.verdicts_checked} recomputed verdict(s) under {again.rule_set_id} match the recorded ones"
        )
    else:
        parts = []
        if not outcome.ok:
            parts.append(f"the {source} history does not replay on the current code: {outcome.failure}")
        if not again.verdicts_match:
            parts.append("a recomputed verdict differs from the recorded one")
        if problems:
            parts.append(f"the journal disagrees with the history at seq {problems[0].seq}: {problems[0].detail}")
        summary = "; ".join(parts)
    log.info("case_replayed", case_id=case_id, source=source, replay_ok=outcome.ok, matches=matches)
    return ReplayReport(
        case_id=case_id,
        source=source,
        workflow_id=case.id,
        run_id=run_id,
        history_sha256=facts.sha256,
        event_count=facts.event_count,
        history_complete=facts.complete,
        replay_ok=outcome.ok,
        replay_failure=outcome.failure,
        rule_set_id=again.rule_set_id,
        decisions=again.decisions,
        verdicts_checked=again.verdicts_checked,
        verdicts_match=again.verdicts_match,
        journal_problems=problems,
        matches=matches,
        summary=summary,
    )


def _recompute(case: CaseRow, records: list[JournalRecord]) -> Recomputation:
    return recompute(records, rule_set_id=case.rule_set_id, locality_type=case.locality_type, case_verdict=case.verdict)


CASE_FACTS = (
    "id",
    "unit_code",
    "province_code",
    "round_id",
    "rule_set_id",
    "profile_id",
    "locality_type",
    "stage",
    "status",
    "outcome",
    "verdict",
    "last_seq",
    "run_id",
)


def case_facts(case: CaseRow) -> dict[str, Any]:
    """The case row's columns a bundle carries, by name."""
    return {name: getattr(case, name) for name in CASE_FACTS}


async def export_case(
    sessions: async_sessionmaker[AsyncSession], case_id: str, *, now: datetime, replay: bool = True
) -> tuple[bytes, str]:
    """The case's bundle (audit/bundle.py) and its hash; the archived histories go in as stored."""
    async with sessions() as session:
        case = await _case(session, case_id)
        records = await load_journal(session, case_id)
        archived = await load_histories(session, case_id)
    histories = [
        {
            "workflow_id": h.workflow_id,
            "run_id": h.run_id,
            "archived_at": h.archived_at.astimezone(UTC).isoformat(),
            "sha256": h.sha256,
            "event_count": h.event_count,
            "complete": h.complete,
            "journal_head_seq": h.journal_head_seq,
            "journal_head_hash": h.journal_head_hash,
            "history": h.history,
        }
        for h in archived
    ]
    replayed: dict[str, Any] | None = None
    if replay and archived:
        best = max(archived, key=lambda h: (h.run_id == case.run_id, h.event_count))
        outcome = await replay_history(case.id, best.history)
        replayed = {"run_id": best.run_id, "sha256": best.sha256, "ok": outcome.ok, "failure": outcome.failure}
    raw, digest = build_bundle(
        case=case_facts(case),
        records=records,
        histories=histories,
        recomputation=_recompute(case, records),
        replay=replayed,
        exported_at=now.astimezone(UTC).isoformat(),
    )
    log.info("case_exported", case_id=case_id, bytes=len(raw), bundle_sha256=digest, histories=len(histories))
    return raw, digest
