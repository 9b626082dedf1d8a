"""Policy what-if for a round's decided cases under a draft rule set (domain/whatif.py). The provinces' administrators
and auditors run it for their province, the ministry for any province or the nation. It reads the round's cases with
an outcome (open or closed: a recognised case waiting for commendation is decided), their council scores and
recorded verdicts, how many cases have no outcome yet, the provinces' units and targets; it writes nothing. The
ministry reads no case (services/access.py): outside the provinces it oversees it gets the shares and the threshold
search but no unit (`units_listed` false).

The draft and the mapping come as text (a file's content and its name): a draft failing the schema, a file not
marked draft, a mapping naming criteria neither rule set has, or a draft whose numbering needs a mapping not given,
are refused (422) naming the field (`draft` or `mapping`) and the reason, with the specifics a page says in its own
words (web/text_whatif.refusal_text): `where` and `kind`/`ctx` of a file's problem, the criteria unknown
(`unknown_official`, `unknown_draft`) or not fitting (`official_only`, `draft_only`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from domain.rulesets import RuleSet, load_rule_set
from domain.stages import Outcome
from domain.targets import Target, target_for
from domain.verdict import Verdict
from domain.whatif import ProvinceScope, UnitRecord, what_if
from domain.whatif_files import (
    CriteriaMapping,
    DraftFileError,
    MappingCriterionError,
    MappingFileError,
    MappingNeededError,
    ResolvedMapping,
    parse_draft,
    parse_mapping,
    resolve_mapping,
)
from services.access import Principal, overseen_provinces, require_oversight, require_report_reader
from services.board.queries import province_names
from services.errors import Refusal
from services.rounds.queries import round_row, unit_count
from services.targets import as_target, targets_of
from services.whatif import queries
from services.whatif.schemas import WhatIfChoices, WhatIfOut, WhatIfRequest

MAX_FILE = 1_000_000  # bytes: a rule file is a few kilobytes


def _text(field: str, content: bytes) -> str:
    if len(content) > MAX_FILE:
        raise Refusal(
            422,
            "invalid_request",
            f"{field}: the file is larger than {MAX_FILE} bytes",
            field=field,
            said="wi_err_too_large",
            maximum=MAX_FILE,
        )
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal(
            422, "invalid_request", f"{field}: the file is not UTF-8 text", field=field, said="wi_err_not_utf8"
        ) from None


def _file_refusal(field: str, exc: DraftFileError | MappingFileError) -> Refusal:
    detail = f"{field}: {exc.where}: {exc.reason}"
    return Refusal(422, exc.code, detail, field=field, where=exc.where, kind=exc.kind, ctx=exc.ctx or {})


def read_draft(content: bytes, name: str) -> RuleSet:
    try:
        return parse_draft(_text("draft", content), name)
    except DraftFileError as exc:
        raise _file_refusal("draft", exc) from None


def read_mapping(content: bytes | None, name: str) -> CriteriaMapping | None:
    if content is None:
        return None
    try:
        return parse_mapping(_text("mapping", content), name)
    except MappingFileError as exc:
        raise _file_refusal("mapping", exc) from None


def _resolved(official: RuleSet, draft: RuleSet, mapping: CriteriaMapping | None) -> ResolvedMapping:
    try:
        return resolve_mapping(official, draft, mapping)
    except MappingCriterionError as exc:
        unknown = exc.unknown_official, exc.unknown_draft
        raise Refusal(
            422, exc.code, f"mapping: {exc}", field="mapping", unknown_official=unknown[0], unknown_draft=unknown[1]
        ) from None
    except MappingNeededError as exc:
        fit = exc.official_only, exc.draft_only
        raise Refusal(
            422, exc.code, f"mapping: {exc}", field="mapping", official_only=fit[0], draft_only=fit[1]
        ) from None


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
    return target_for([as_target(r) for r in await targets_of(session, province)], province, year)


async def _records(session: AsyncSession, round_id: str, province: str | None) -> list[UnitRecord]:
    """The round's decided cases in scope as the domain reads them; refused when there is none."""
    cases = await queries.decided_cases(session, round_id, [province] if province else None)
    if not cases:
        where = f"province {province}" if province else "any province"
        detail = f"round_id: round {round_id} has no decided case in {where}"
        raise Refusal(422, "no_closed_cases", detail, field="round_id")
    scores = await queries.council_scores(session, [c["id"] for c in cases])
    return [
        UnitRecord(
            unit_code=c["unit_code"],
            unit_name=c["name"],
            province_code=c["province_code"],
            locality_type=c["locality_type"],
            outcome=Outcome(c["outcome"]),
            scores=scores.get(c["id"], {}),
            verdict=Verdict.model_validate(c["verdict"]) if c["verdict"] else None,
        )
        for c in cases
    ]


async def run(
    session: AsyncSession,
    principal: Principal,
    req: WhatIfRequest,
    *,
    draft: tuple[bytes, str],
    mapping: tuple[bytes, str] | None = None,
    now: datetime,
) -> WhatIfOut:
    """The round's decided cases in scope under the draft (`draft`, `mapping`: each file's content and name)."""
    _in_scope(principal, req.province)
    drafted = read_draft(*draft)
    mapped = read_mapping(*mapping) if mapping is not None else None
    rnd = await round_row(session, req.round_id)
    if rnd is None:
        raise Refusal(404, "round_not_found", f"round_id: no round {req.round_id} has been opened", field="round_id")
    official = load_rule_set(rnd.rule_set_id)
    resolved = _resolved(official, drafted, mapped)
    records = await _records(session, req.round_id, req.province)
    codes = sorted({r.province_code for r in records})
    waiting = await queries.undecided(session, req.round_id, codes)
    scopes = [
        ProvinceScope(
            code=code,
            name=name,
            units=await unit_count(session, code),
            target=await _target(session, code, rnd.year),
            undecided=waiting.get(code, 0),
        )
        for code, name in (await province_names(session, codes)).items()
    ]
    result = what_if(official, drafted, resolved, records, scopes)
    listed = overseen_provinces(principal)  # the ministry reads no case: units only where the reader oversees
    units = [u for u in result.units if u.province_code in listed] if principal.ministry else result.units
    return WhatIfOut(
        **result.model_dump(exclude={"units"}),
        units=units,
        units_listed=not principal.ministry or bool(listed & set(codes)),
        round_id=req.round_id,
        year=rnd.year,
        province=req.province,
        generated_at=now,
    )


async def choices(session: AsyncSession, principal: Principal) -> WhatIfChoices:
    """The rounds and provinces the official may run the what-if on: the ministry every province and the nation, a
    province's administrators and auditors their provinces; anyone else is refused."""
    codes = None if principal.ministry else sorted(require_oversight(principal))
    return WhatIfChoices(
        rounds=await queries.round_ids(session),
        provinces=list((await province_names(session, codes)).items()),
        national=principal.ministry,
    )
