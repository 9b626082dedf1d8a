"""Policy what-if for a round's closed cases under a draft rule set (domain/whatif.py). The provinces' administrators
and auditors run it for their province, the ministry for any province or the nation. It reads the round's closed
cases, their council scores and recorded verdicts, the provinces' units and targets; it writes nothing.

The draft and the mapping come as text (a file's content and its name): a draft failing the schema, a file not
marked draft, a mapping naming criteria neither rule set has, or a draft whose numbering needs a mapping not given,
are refused (422) naming the field (`draft` or `mapping`) and the reason."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import DataFileError, DomainError
from domain.rulesets import RuleSet, load_rule_set
from domain.targets import Target
from domain.verdict import Verdict
from domain.whatif import (
    CriteriaMapping,
    ProvinceScope,
    UnitRecord,
    parse_draft,
    parse_mapping,
    resolve_mapping,
    what_if,
)
from services.access import Principal, require_oversight, require_report_reader
from services.errors import Refusal
from services.rounds.queries import round_row
from services.targets import target_in_force
from services.whatif import queries
from services.whatif.schemas import WhatIfChoices, WhatIfOut, WhatIfRequest

MAX_FILE = 1_000_000  # bytes: a rule file is a few kilobytes


def _text(field: str, content: bytes) -> str:
    if len(content) > MAX_FILE:
        raise Refusal(422, "invalid_request", f"{field}: the file is larger than {MAX_FILE} bytes", field=field)
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal(422, "invalid_request", f"{field}: the file is not UTF-8 text", field=field) from None


def _file_refusal(field: str, exc: DataFileError) -> Refusal:
    return Refusal(422, exc.code, f"{field}: {exc.where}: {exc.reason}", field=field, where=exc.where)


def read_draft(content: bytes, name: str) -> RuleSet:
    try:
        return parse_draft(_text("draft", content), name)
    except DataFileError as exc:
        raise _file_refusal("draft", exc) from None


def read_mapping(content: bytes | None, name: str) -> CriteriaMapping | None:
    if content is None:
        return None
    try:
        return parse_mapping(_text("mapping", content), name)
    except DataFileError as exc:
        raise _file_refusal("mapping", exc) from None


def _in_scope(principal: Principal, province: str | None) -> None:
    """A province: its administrators and auditors, or the ministry; the nation: the ministry."""
    if province is not None:
        require_report_reader(principal, province)
    elif not principal.ministry:
        raise Refusal(
            403,
            "forbidden",
            "province: the what-if of every province takes the ministry's national role",
            field="province",
        )


async def _target(session: AsyncSession, province: str, year: int) -> Target | None:
    found = await target_in_force(session, province, year)
    return (
        Target(province_code=province, **found.model_dump(include={"first_year", "last_year", "share", "plan"}))
        if found
        else None
    )


async def run(
    session: AsyncSession,
    principal: Principal,
    req: WhatIfRequest,
    *,
    draft: tuple[bytes, str],
    mapping: tuple[bytes, str] | None = None,
    now: datetime,
) -> WhatIfOut:
    """The round's closed cases in scope under the draft (`draft`, `mapping`: each file's content and name)."""
    _in_scope(principal, req.province)
    drafted = read_draft(*draft)
    mapped = read_mapping(*mapping) if mapping is not None else None
    rnd = await round_row(session, req.round_id)
    if rnd is None:
        raise Refusal(404, "round_not_found", f"round_id: no round {req.round_id} has been opened", field="round_id")
    official = load_rule_set(rnd.rule_set_id)
    try:
        resolved = resolve_mapping(official, drafted, mapped)
    except DomainError as exc:
        raise Refusal(422, exc.code, f"mapping: {exc}", field="mapping") from None
    cases = await queries.closed_cases(session, req.round_id, [req.province] if req.province else None)
    if not cases:
        where = f"province {req.province}" if req.province else "any province"
        raise Refusal(
            422, "no_closed_cases", f"round_id: round {req.round_id} has no closed case in {where}", field="round_id"
        )
    scores = await queries.council_scores(session, [c["id"] for c in cases])
    records = [
        UnitRecord(
            unit_code=c["unit_code"],
            unit_name=c["name"],
            province_code=c["province_code"],
            locality_type=c["locality_type"],
            scores=scores.get(c["id"], {}),
            verdict=Verdict.model_validate(c["verdict"]) if c["verdict"] else None,
        )
        for c in cases
    ]
    codes = sorted({c["province_code"] for c in cases})
    scopes = [
        ProvinceScope(code=code, name=name, units=units, target=await _target(session, code, rnd.year))
        for code, name, units in await queries.provinces(session, codes)
    ]
    result = what_if(official, drafted, resolved, records, scopes)
    return WhatIfOut(
        **result.model_dump(), round_id=req.round_id, year=rnd.year, province=req.province, generated_at=now
    )


async def choices(session: AsyncSession, principal: Principal) -> WhatIfChoices:
    """The rounds and provinces the official may run the what-if on: the ministry every province and the nation, a
    province's administrators and auditors their provinces; anyone else is refused."""
    codes = None if principal.ministry else sorted(require_oversight(principal))
    return WhatIfChoices(
        rounds=await queries.round_ids(session),
        provinces=await queries.province_names(session, codes),
        national=principal.ministry,
    )
