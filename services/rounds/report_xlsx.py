"""The round's report as an XLSX workbook for people (openpyxl): a summary sheet (counts, share recognised, target),
the units (one row per unit) and the zeros per criterion, every header and value from the glossary in the reader's
language — stages, outcomes and locality types by name, shares as percentages, no codes."""

from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Font

import glossary
from services.rounds.schemas import ReportOut
from web.i18n import Translator


def add_sheet(book: Workbook, title: str, headers: list[str], rows: Sequence[Sequence[object]]) -> None:
    """A sheet of `rows` under bold `headers`, each column as wide as its widest value (at most 60)."""
    sheet = book.create_sheet(title)
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    for column, header in zip(sheet.columns, headers, strict=False):
        width = max([len(header), *(len(str(c.value or "")) for c in column)])
        sheet.column_dimensions[column[0].column_letter].width = min(60, width + 2)


def target_text(t: Translator, report: ReportOut) -> str:
    """The report's target as people read it ("chỉ tiêu 90% (KH 12/KH-UBND, 2026–2030)"), or that the round's year
    has none: for the page, the workbook and the CLI alike."""
    if report.target is None:
        return t("no_target", year=glossary.round_year(report.round_id))
    target = report.target
    share = f"{target.share * 100:g}"
    return t("target_line", share=share, plan=target.plan, first=target.first_year, last=target.last_year)


def report_xlsx(report: ReportOut, lang: str = "vi") -> bytes:
    t = Translator(lang)
    book = Workbook()
    book.remove(book.active)
    target = target_text(t, report)
    summary: list[list[object]] = [
        [t("round"), glossary.round_label(report.round_id, lang)],
        [t("province"), glossary.province_name(report.province)],
        [t("units"), report.units],
        [t("round_registered"), report.registered],
        [t("round_assessed"), report.assessed],
        [t("round_submitted"), report.submitted],
        [t("round_outcome_recognised"), report.recognised],
        [t("round_outcome_not_recognised"), report.not_recognised],
        [t("round_outcome_not_registered"), report.not_registered],
        [t("round_outcome_not_submitted"), report.not_submitted],
        [t("round_outcome_withdrawn"), report.withdrawn],
        [t("round_share_percent"), glossary.percent(report.recognised_share)],
        [t("target"), target],
    ]
    add_sheet(book, t("xlsx_summary"), [t("xlsx_item"), t("xlsx_value")], summary)
    units = [
        [
            r.unit_code,
            r.unit_name,
            glossary.term("locality", r.locality_type, lang),
            glossary.term("stage", r.stage, lang),
            glossary.term("outcome", r.outcome, lang) if r.outcome else "",
            r.total,
            r.threshold,
            r.zero_criteria,
            r.former_district or "",
        ]
        for r in report.results
    ]
    headers = ["xlsx_unit_code", "unit", "locality", "stage", "case_outcome", "total", "threshold", "xlsx_zeros"]
    headers.append("former_district")
    add_sheet(book, t("xlsx_units"), [t(h) for h in headers], units)
    zeros = [[z.criterion, z.name_en if lang == "en" else z.name, z.units] for z in report.zero_by_criterion]
    add_sheet(book, t("zeros_title")[:31], [t("criterion_no"), t("criterion"), t("units_with_zero")], zeros)
    if report.by_former_district:
        districts = [[d.former_district, d.units, d.assessed, d.recognised] for d in report.by_former_district]
        headers = [t("former_district"), t("cases"), t("assessed"), t("recognised")]
        add_sheet(book, t("xlsx_by_district"), headers, districts)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
