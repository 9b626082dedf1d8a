"""`xptt rules what-if`: a round's decided cases under a draft rule set (services/whatif), as tables, JSON or a
workbook. In process, over the database; as the operator over the province (or, with no province, as the ministry),
or as the official named with --as. Writes nothing but the --out file.

Exit codes: 0 done; 2 bad input or refused (a Vietnamese line naming the option or field, and why); 3 not found."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

import glossary
from cli.common import console, fail, refusal_text
from cli.officials_cmd import in_process
from cli.ops import EXIT_NOT_FOUND, EXIT_USAGE
from services.access import Principal
from services.errors import Refusal
from services.whatif import service
from services.whatif.schemas import WhatIfOut, WhatIfRequest
from services.whatif.xlsx import (
    caps_text,
    count_share,
    flip_text,
    found_text,
    meets_text,
    scope_name,
    side_text,
    target_text,
    whatif_xlsx,
)
from web.i18n import Translator
from web.text_whatif import refusal_specifics

T = Translator("vi")
FORMATS = ("table", "json", "xlsx")


def _read(option: str, path: Path) -> tuple[bytes, str]:
    try:
        return path.read_bytes(), path.name
    except FileNotFoundError:
        fail(escape(f"{option}: không tìm thấy tệp {path}"), EXIT_USAGE)
    except OSError as exc:
        fail(escape(f"{option}: không đọc được tệp {path} ({exc.strerror})"), EXIT_USAGE)


def _refused(exc: Refusal) -> NoReturn:
    """A refusal in Vietnamese: the glossary's sentence for its code with the field, and what exactly is wrong."""
    said = f"{refusal_text(exc)} {refusal_specifics(T, exc)}".strip()
    fail(escape(said), EXIT_NOT_FOUND if exc.status == 404 else EXIT_USAGE)


def what_if(
    draft: Path = typer.Option(..., "--draft", help="the draft rule set (YAML in the rule sets' schema, draft: true)"),
    round_id: str = typer.Option(..., "--round", help="round id, e.g. qd06-2019:2027"),
    province: str | None = typer.Option(None, "--province", help="two-digit province code (none: the nation)"),
    mapping: Path | None = typer.Option(None, "--mapping", help="criteria mapping (YAML) when the draft renumbers"),
    format: str = typer.Option("table", "--format", help="table, json or xlsx (the workbook: needs --out)"),
    out_file: Path | None = typer.Option(None, "--out", help="write to this file instead of the terminal"),
    as_: str | None = typer.Option(None, "--as", help="the official acting (default: the operator)"),
) -> None:
    """Evaluate the recorded council scores of the round's decided cases under a draft rule set: per unit the verdict
    under both and why it flips; per province and nationally the share recognised under both against the target;
    the highest threshold per locality type at which each province still reaches its target."""
    if format not in FORMATS:
        fail(T("cli_format", value=format, choices=", ".join(FORMATS)), EXIT_USAGE)
    if format == "xlsx" and out_file is None:
        fail("--format xlsx ghi ra bảng tính: cần --out để chỉ tệp", EXIT_USAGE)
    if out_file is not None and (out_file.is_dir() or not out_file.parent.is_dir()):
        fail(escape(f"--out: {out_file} không phải một tệp trong thư mục có sẵn"), EXIT_USAGE)
    try:
        req = WhatIfRequest(round_id=round_id, province=province)
    except ValueError:
        fail("--round/--province: mã kỳ đánh giá dạng qd06-2019:2027, mã tỉnh gồm 2 chữ số", EXIT_USAGE)
    files = _read("--draft", draft), (_read("--mapping", mapping) if mapping is not None else None)

    async def attempt(session: AsyncSession, principal: Principal) -> WhatIfOut | Refusal:
        try:
            return await service.run(session, principal, req, draft=files[0], mapping=files[1], now=datetime.now(UTC))
        except Refusal as exc:
            return exc

    got = in_process(attempt, province=province, official=as_, ministry=province is None)
    if isinstance(got, Refusal):
        _refused(got)
    out = got
    if format == "table":
        _print(out)
        return
    content = whatif_xlsx(out) if format == "xlsx" else (out.model_dump_json(indent=2) + "\n").encode()
    if out_file is None:
        sys.stdout.write(content.decode())
        return
    try:
        out_file.write_bytes(content)
    except OSError as exc:
        fail(escape(f"--out: không ghi được {out_file} ({exc.strerror})"), EXIT_USAGE)
    console.print(T("file_written", path=escape(str(out_file)), what=format.upper()), highlight=False)


def _print(out: WhatIfOut) -> None:
    console.print(T("wi_heading", round_name=glossary.round_label(out.round_id), draft=out.draft_title), style="bold")
    shares = Table(title=T("wi_shares"))
    for h in ("wi_scope", "wi_units", "wi_assessed", "wi_undecided_head", "wi_official", "wi_draft", "wi_target"):
        shares.add_column(T(h))
    for s in out.share_rows():
        official = f"{count_share(T, s.official_recognised, s.official_share)} {meets_text(T, s.official_meets)}"
        drafted = f"{count_share(T, s.draft_recognised, s.draft_share)} {meets_text(T, s.draft_meets)}"
        target = target_text(T, s) if s.code is not None else ""
        counts = str(s.units), str(s.assessed), str(s.undecided)
        shares.add_row(scope_name(T, s), *counts, official.strip(), drafted.strip(), target)
    console.print(shares)
    if out.national.undecided:
        console.print(T("wi_undecided", n=out.national.undecided), highlight=False)
    names = {s.code: s.name for s in out.provinces}
    search = Table(title=T("wi_search"))
    for h in ("wi_province", "wi_locality", "wi_draft_threshold", "wi_found", "wi_change"):
        search.add_column(T(h))
    for f in out.thresholds:
        locality = glossary.term("locality", f.locality_type.value)
        search.add_row(names.get(f.province_code, f.province_code), locality, str(f.draft_threshold), *found_text(T, f))
    console.print(search)
    if out.units_listed:
        _print_units(out)
    else:
        console.print(T("wi_units_hidden"), highlight=False)
    for key, refs in (("wi_dropped", out.mapping.dropped), ("wi_unmapped", out.mapping.unmapped)):
        for ref in refs:
            console.print(f"{T(key)}: {T('wi_criterion_line', number=ref.number, name=ref.name_vi)}", highlight=False)
    for ref in out.mapping.unscored:
        console.print(
            f"{T('wi_unscored')}: {T('wi_criterion_line', number=ref.number, name=ref.name_vi)}", highlight=False
        )


def _print_units(out: WhatIfOut) -> None:
    """The units whose result flips, and those refused after the council (no flip), with why."""
    flipped = out.flipped()
    table = Table(title=T("wi_flipped", n=len(flipped)))
    for h in ("wi_unit", "wi_change_kind", "wi_why_official", "wi_why_draft"):
        table.add_column(T(h))
    for u in flipped:
        why = side_text(T, u.draft) + (f" — {caps_text(T, u.caps)}" if u.caps else "")
        table.add_row(f"{u.unit_name} ({u.unit_code})", flip_text(T, u), side_text(T, u.official), why)
    console.print(table)
    after = out.refused_after_council()
    if after:
        table = Table(title=T("wi_after_council", n=len(after)), caption=T("wi_after_council_help"))
        for h in ("wi_unit", "wi_outcome", "wi_why_official", "wi_why_draft"):
            table.add_column(T(h))
        for u in after:
            name = f"{u.unit_name} ({u.unit_code})"
            table.add_row(name, T.outcome(u.outcome.value), side_text(T, u.official), side_text(T, u.draft))
        console.print(table)
