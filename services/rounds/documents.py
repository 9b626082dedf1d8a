"""Documents of a round in a province that officials used to make by hand: the draft recognition decision as DOCX
(to complete and sign) or PDF, and the unit list of its annex as an XLSX workbook — all three drawn from one
document model (services/rounds/decision_doc.py) built on the round's report, so they list the same units: exactly
those whose case closed recognised.

Whoever may read the round's report may download them (`service.report` checks it). A round with no unit recognised
yet (still open, or none passed) has nothing to decide: refused with 409 `no_recognised_units`, not an empty annex.
"""

from __future__ import annotations

import asyncio
import io
from datetime import date, datetime
from pathlib import Path
from typing import Literal

from openpyxl import Workbook
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

import glossary
from domain.decision_basis import NoDecisionWordingError, decision_wording
from domain.procedure import profile_in_force
from domain.rulesets import load_rule_set
from domain.units import Province, load_provinces
from services.access import Principal
from services.errors import Refusal
from services.rounds import queries, service
from services.rounds.decision_doc import Decision, build_decision, recognised
from services.rounds.decision_docx import decision_docx
from services.rounds.decision_pdf import PdfFontMissing, decision_pdf
from services.rounds.report_xlsx import add_sheet

DecisionFormat = Literal["docx", "pdf", "xlsx"]
FORMATS: tuple[DecisionFormat, ...] = ("docx", "pdf", "xlsx")
MEDIA_TYPES: dict[str, str] = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
ANNEX_SHEET = "Đơn vị được công nhận"


class Download(BaseModel):
    content: bytes
    filename: str
    media_type: str


def _province(code: str) -> Province:
    found = next((p for p in load_provinces() if p.code == code), None)
    if found is None:
        raise Refusal(404, "province_not_found", f"no province {code}", field="province")
    return found


async def draft_decision(
    session: AsyncSession, principal: Principal, round_id: str, province: str, *, now: datetime, today: date
) -> Decision:
    """The draft decision recognising the round's recognised units in the province, in the wording of the
    procedure profile in force `today` (who proposes, who signs)."""
    report = await service.report(session, principal, round_id, province, now=now)
    units = recognised(report)
    if not units:
        raise Refusal(
            409,
            "no_recognised_units",
            f"no unit of province {province} has been recognised in round {round_id} yet "
            f"({report.recognised} of {report.units}; {'the round is closed' if report.final else 'still open'}): "
            "the draft decision lists the units recognised, so there is nothing to draft",
        )
    kinds = await queries.division_types(session, [u.unit_code for u in units])
    try:
        wording = decision_wording(profile_in_force(today).id)
    except NoDecisionWordingError as exc:
        raise Refusal(409, exc.code, str(exc)) from None
    return build_decision(
        report,
        rule_set=load_rule_set(report.rule_set_id),
        wording=wording,
        province=_province(province),
        division_types=kinds,
    )


def annex_xlsx(d: Decision) -> bytes:
    """The annex's unit list as a workbook: one sheet, the annex's headers, numbers as numbers."""
    book = Workbook()
    book.remove(book.active)
    rows = [[int(v) if v.isdigit() else v for v in row] for row in d.annex.table.rows]
    add_sheet(book, ANNEX_SHEET, d.annex.table.headers, rows)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _render(d: Decision, fmt: DecisionFormat, font_dir: Path) -> bytes:
    if fmt == "docx":
        return decision_docx(d)
    if fmt == "pdf":
        return decision_pdf(d, font_dir)
    return annex_xlsx(d)


async def decision(
    session: AsyncSession,
    principal: Principal,
    round_id: str,
    province: str,
    *,
    fmt: DecisionFormat,
    now: datetime,
    today: date,
    font_dir: Path,
) -> Download:
    """The draft decision as DOCX or PDF, or its annex's unit list as XLSX, with a file name people can read
    ("du-thao-quyet-dinh-2027-33.docx"). A PDF without its font (`font_dir`, XPTT_PDF_FONT_DIR) is refused with
    503 `pdf_font_missing`, naming the setting."""
    d = await draft_decision(session, principal, round_id, province, now=now, today=today)
    await session.rollback()  # hold no connection while the document is drawn
    try:
        content = await asyncio.to_thread(_render, d, fmt, font_dir)
    except PdfFontMissing as exc:
        raise Refusal(503, "pdf_font_missing", str(exc), missing=exc.missing, directory=str(exc.font_dir)) from None
    year = glossary.round_year(round_id) or round_id.replace(":", "-")
    stem = "danh-sach-cong-nhan" if fmt == "xlsx" else "du-thao-quyet-dinh"
    return Download(content=content, filename=f"{stem}-{year}-{province}.{fmt}", media_type=MEDIA_TYPES[fmt])
