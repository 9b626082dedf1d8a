"""The export bundle: one self-contained JSON file per case that an auditor verifies offline (no database, no Temporal).

The file is the JCS encoding (RFC 8785, audit/canonical.py) of one object:

    format          "xptt-audit-bundle-v1"
    exported_at     when it was written (UTC)
    case            the case as the read model held it (rule set, locality type, outcome, verdict, last seq, ...)
    chain           {"format": "xptt-audit-v1", "genesis": 64 zeros, "head_seq": n, "head_hash": hash of row n}
    journal         every journal row with its prev_hash and hash (audit/chain.py)
    histories       every archived Temporal history of the case: the History JSON, its sha256 (of its JCS bytes),
                    event count, whether it is complete, and the journal head it saw
    recomputation   the decisions in order with each verdict recomputed (audit/recompute.py)
    replay          the Replayer's verdict at export time (ok, failure), or null when no history was replayed
    bundle_sha256   SHA-256 of the JCS encoding of the object without this member

`verify_bundle` checks that the bytes are exactly that encoding (so any changed byte is caught, whitespace
included), the bundle hash, the chain, each history's hash and count, the journal against the histories, and
recomputes every verdict with this build's rule sets.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from audit.canonical import CanonicalError, canonical_bytes, sha256_hex
from audit.chain import FORMAT, GENESIS, JournalRecord
from audit.recompute import Recomputation, recompute
from audit.verify import HeadAnchor, verify_records
from audit.witness import history_facts

BUNDLE_FORMAT = "xptt-audit-bundle-v1"


def build_bundle(
    *,
    case: dict[str, Any],
    records: list[JournalRecord],
    histories: list[dict[str, Any]],
    recomputation: Recomputation,
    replay: dict[str, Any] | None,
    exported_at: str,
) -> tuple[bytes, str]:
    """The bundle's bytes and its hash."""
    head = records[-1] if records else None
    body: dict[str, Any] = {
        "format": BUNDLE_FORMAT,
        "exported_at": exported_at,
        "case": case,
        "chain": {
            "format": FORMAT,
            "genesis": GENESIS,
            "head_seq": head.seq if head else None,
            "head_hash": head.hash if head else None,
        },
        "journal": [r.model_dump(mode="json") for r in records],
        "histories": histories,
        "recomputation": recomputation.model_dump(mode="json"),
        "replay": replay,
    }
    digest = sha256_hex(body)
    body["bundle_sha256"] = digest
    return canonical_bytes(body), digest


class BundleReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    ok: bool
    case_id: str | None
    bundle_sha256: str | None
    checks: list[str]  # what was checked and held
    problems: list[str]  # what failed, each naming where


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"member {key!r} appears twice in one object")
        out[key] = value
    return out


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def verify_bundle(raw: bytes) -> BundleReport:
    checks: list[str] = []
    problems: list[str] = []

    def report(case_id: str | None = None, digest: str | None = None) -> BundleReport:
        return BundleReport(ok=not problems, case_id=case_id, bundle_sha256=digest, checks=checks, problems=problems)

    try:
        body = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        problems.append(f"not a JSON bundle: {exc}")
        return report()
    if not isinstance(body, dict) or body.get("format") != BUNDLE_FORMAT:
        problems.append(
            f"not an {BUNDLE_FORMAT} bundle (format is {body.get('format') if isinstance(body, dict) else None!r})"
        )
        return report()
    case = body.get("case") or {}
    case_id = case.get("id")
    if not _check_encoding(body, raw, checks, problems):
        return report(case_id)
    claimed = body.get("bundle_sha256")
    try:
        records = [JournalRecord.model_validate(r) for r in body.get("journal", [])]
    except ValidationError as exc:
        problems.append(f"a journal row is malformed: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}")
        return report(case_id, claimed)
    chain = body.get("chain") or {}
    head = records[-1] if records else None
    if (chain.get("head_seq"), chain.get("head_hash")) != ((head.seq, head.hash) if head else (None, None)):
        problems.append(f"the chain head {chain.get('head_seq')}/{chain.get('head_hash')} is not the last journal row")
    anchors, histories = _check_histories(body.get("histories", []), checks, problems)
    if case_id is None:
        problems.append("the bundle names no case")
        return report(None, claimed)
    verification = verify_records(case_id, records, last_seq=case.get("last_seq"), anchors=anchors, histories=histories)
    if verification.ok:
        checks.append(
            f"journal chain holds: {verification.rows} rows, head seq {verification.head_seq}"
            f", {verification.histories_checked} history witness(es) agree"
        )
    problems.extend(f"journal: case {f.case_id} seq {f.seq}: {f.kind}: {f.detail}" for f in verification.problems)
    if not _check_recomputation(body, records, checks, problems):
        return report(case_id, claimed)
    replay = body.get("replay")
    if replay is not None:
        if replay.get("ok"):
            checks.append("the exporter's replay of the history matched the workflow code")
        else:
            problems.append(f"the exporter's replay did not match: {replay.get('failure')}")
    return report(case_id, claimed)


def _check_encoding(body: dict[str, Any], raw: bytes, checks: list[str], problems: list[str]) -> bool:
    """The bytes are the body's canonical encoding and its hash is the one it claims; False: no canonical form."""
    try:
        canonical = canonical_bytes(body)
    except CanonicalError as exc:
        problems.append(f"the bundle holds a value with no canonical form: {exc}")
        return False
    if canonical != raw:
        at = next(
            (i for i, (a, b) in enumerate(zip(canonical, raw, strict=False)) if a != b), min(len(canonical), len(raw))
        )
        problems.append(f"the file is not the bundle's canonical encoding: it differs at byte {at}")
    else:
        checks.append("the file is in canonical form (RFC 8785)")
    claimed = body.get("bundle_sha256")
    digest = sha256_hex({k: v for k, v in body.items() if k != "bundle_sha256"})
    if claimed != digest:
        problems.append(f"bundle hash mismatch: the content hashes to {digest}, the bundle says {claimed}")
    else:
        checks.append(f"bundle hash {digest}")
    return True


def _check_histories(
    entries: list[dict[str, Any]], checks: list[str], problems: list[str]
) -> tuple[list[HeadAnchor], list[tuple[str, dict[str, Any]]]]:
    """Each history's hash, count and completeness against the bundle's account; the journal heads the archives
    saw, and the histories to witness the journal with."""
    anchors: list[HeadAnchor] = []
    histories: list[tuple[str, dict[str, Any]]] = []
    for i, h in enumerate(entries):
        facts = history_facts(h.get("history") or {})
        where = f"history {i} (run {h.get('run_id')})"
        if facts.sha256 != h.get("sha256"):
            problems.append(f"{where}: its content hashes to {facts.sha256}, the bundle says {h.get('sha256')}")
        elif facts.event_count != h.get("event_count") or facts.complete != h.get("complete"):
            problems.append(f"{where}: event count or completeness differs from the bundle's account")
        else:
            checks.append(f"{where}: sha256 {facts.sha256}, {facts.event_count} events")
        histories.append((str(h.get("run_id")), h.get("history") or {}))
        if h.get("journal_head_seq") is not None:
            anchors.append(
                HeadAnchor(
                    source=f"archive of run {h.get('run_id')}", seq=h["journal_head_seq"], hash=h["journal_head_hash"]
                )
            )
    return anchors, histories


def _check_recomputation(
    body: dict[str, Any], records: list[JournalRecord], checks: list[str], problems: list[str]
) -> bool:
    """Every verdict recomputed with this build's rule sets, against the recorded ones and the bundle's account;
    False: the case names no rule set or locality type to recompute them with."""
    case = body.get("case") or {}
    try:
        again = recompute(
            records,
            rule_set_id=case["rule_set_id"],
            locality_type=case["locality_type"],
            case_verdict=case.get("verdict"),
        )
    except (KeyError, ValueError) as exc:
        problems.append(f"verdicts cannot be recomputed: {exc}")
        return False
    if not again.verdicts_match:
        bad = [d.seq for d in again.decisions if d.verdict is not None and not d.verdict.matches]
        problems.append(f"recomputed verdicts differ from the recorded ones at seq {bad or '(case verdict)'}")
    elif again.model_dump(mode="json") != body.get("recomputation"):
        problems.append("the bundle's recomputation differs from the one made now")
    else:
        checks.append(f"{again.verdicts_checked} verdict(s) recomputed under {again.rule_set_id}: all match")
    return True
