"""What a workflow history witnesses: the transitions the workflow handed to its recording activity.

Each `record_transition` activity scheduled in the history carries the transition (seq, action, stages, time, actor,
form) as its input, in the history itself. The journal row of the same seq must say the same: a row rewritten in
PostgreSQL (even with every hash recomputed) contradicts the history, and a witnessed transition absent from the
journal shows a deletion at the journal's end, where the chain alone cannot see it.

Histories are the JSON form of Temporal's `History` message (`WorkflowHistory.to_json_dict()`); payloads are the
pydantic data converter's `json/plain`, base64 in that form.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from audit.canonical import canonical_bytes, sha256_hex
from audit.chain import Finding, JournalRecord, timestamp_text
from contracts import StartCaseInput
from domain.case import CaseState, open_case
from domain.procedure import load_profile
from domain.rounds import parse_round

CLOSE_EVENTS = frozenset(
    {
        "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED",
        "EVENT_TYPE_WORKFLOW_EXECUTION_FAILED",
        "EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT",
        "EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED",
        "EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED",
        "EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW",
    }
)


class HistoryFacts(BaseModel):
    model_config = ConfigDict(frozen=True)

    sha256: str  # SHA-256 of JCS(history JSON), see audit/canonical.py
    event_count: int
    complete: bool  # the last event closes the execution
    workflow_type: str | None


def history_facts(history: Mapping[str, Any]) -> HistoryFacts:
    events = list(history.get("events", []))
    first = events[0] if events else {}
    started = first.get("workflowExecutionStartedEventAttributes", {})
    return HistoryFacts(
        sha256=sha256_hex(history),
        event_count=len(events),
        complete=bool(events) and events[-1].get("eventType") in CLOSE_EVENTS,
        workflow_type=started.get("workflowType", {}).get("name"),
    )


class Witness(BaseModel):
    """One transition as the workflow handed it to the recording activity."""

    model_config = ConfigDict(frozen=True)

    event_id: int
    seq: int
    action: str
    from_stage: str | None
    to_stage: str
    occurred_at: str  # as hashed in the journal
    actor_id: str | None
    update_id: str | None
    reason: str | None
    payload: dict[str, Any]


def _decode(payload: Mapping[str, Any]) -> Any:
    encoding = base64.b64decode(payload.get("metadata", {}).get("encoding", "")).decode()
    if encoding != "json/plain":
        return None
    return json.loads(base64.b64decode(payload.get("data", "")))


def witnesses(history: Mapping[str, Any]) -> list[Witness]:
    """The transitions in the history, by seq (the first scheduling of a seq wins; retries do not reschedule)."""
    found: dict[int, Witness] = {}
    for event in history.get("events", []):
        started = event.get("workflowExecutionStartedEventAttributes")
        if started:
            opening = _opening_witness(event, started)
            if opening is not None:
                found[1] = opening
            continue
        attrs = event.get("activityTaskScheduledEventAttributes")
        if not attrs:
            continue
        payloads = attrs.get("input", {}).get("payloads", [])
        arg = _decode(payloads[0]) if payloads else None
        if not isinstance(arg, dict):
            continue
        tr = arg.get("transition")
        if not isinstance(tr, dict) or "seq" not in tr or "action" not in tr:
            continue
        seq = int(tr["seq"])
        if seq in found:
            continue
        found[seq] = Witness(
            event_id=int(event.get("eventId", 0)),
            seq=seq,
            action=tr["action"],
            from_stage=tr.get("from_stage"),
            to_stage=tr["to_stage"],
            occurred_at=timestamp_text(datetime.fromisoformat(tr["occurred_at"])),
            actor_id=arg.get("actor_id"),
            update_id=arg.get("update_id"),
            reason=tr.get("reason"),
            payload=tr.get("details") or {},
        )
    return [found[s] for s in sorted(found)]


def _opening_witness(event: Mapping[str, Any], started: Mapping[str, Any]) -> Witness | None:
    """A case its round opened in bulk starts with `opened_at` in its input: its first transition (seq 1,
    `case_opened` into registration at that time, no actor) is witnessed by the start event itself."""
    payloads = started.get("input", {}).get("payloads", [])
    arg = _decode(payloads[0]) if payloads else None
    if not isinstance(arg, dict) or not arg.get("opened_at") or "case_id" not in arg:
        return None
    return Witness(
        event_id=int(event.get("eventId", 0)),
        seq=1,
        action="case_opened",
        from_stage=None,
        to_stage="registration",
        occurred_at=timestamp_text(datetime.fromisoformat(arg["opened_at"])),
        actor_id=None,
        update_id=None,
        reason=None,
        payload=_opening_details(arg),
    )


def _opening_details(start: Mapping[str, Any]) -> dict[str, Any]:
    """The details of the opening the start input implies: the same pure function the round ran on the same input
    (with the round's calendar, the registration window it gave), as JSON."""
    inp = StartCaseInput.model_validate(start)
    if inp.calendar is None or inp.opened_at is None:
        return {}
    _, opened = open_case(
        CaseState(**inp.identity()),
        profile=load_profile(inp.profile_id),
        year=parse_round(inp.round_id).year,
        now=inp.opened_at,
        calendar=inp.calendar,
    )
    details: dict[str, Any] = json.loads(opened.model_dump_json(include={"details"}))["details"]
    return details


def compare_with_history(
    case_id: str, records: Iterable[JournalRecord], seen: Iterable[Witness], *, run_id: str | None = None
) -> list[Finding]:
    """Journal rows that contradict the history, and witnessed transitions the journal lacks, by seq.

    With `run_id`, rows recorded by another run of the workflow (a reset) are not held against this history.
    """
    by_seq = {r.seq: r for r in records}
    findings: list[Finding] = []
    for w in seen:
        rec = by_seq.get(w.seq)
        if rec is None:
            findings.append(
                Finding(
                    case_id=case_id,
                    seq=w.seq,
                    kind="missing_from_journal",
                    detail=f"history event {w.event_id} records transition seq {w.seq} ({w.action}); "
                    "the journal has no such row",
                )
            )
            continue
        if run_id is not None and rec.run_id is not None and rec.run_id != run_id:
            continue
        differing = [
            name
            for name in ("action", "from_stage", "to_stage", "occurred_at", "actor_id", "update_id", "reason")
            if getattr(rec, name) != getattr(w, name)
        ]
        if canonical_bytes(rec.payload) != canonical_bytes(w.payload):
            differing.append("payload")
        if differing:
            findings.append(
                Finding(
                    case_id=case_id,
                    seq=w.seq,
                    kind="contradicts_history",
                    detail=f"row seq {w.seq} differs from history event {w.event_id} in {', '.join(differing)}",
                )
            )
    return findings
