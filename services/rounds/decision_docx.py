"""The draft recognition decision as DOCX (python-docx), for the office to complete and sign: Times New Roman, A4,
margins, sizes and emphasis of Decree 30/2020/NĐ-CP (Appendix I): the issuing body and the national name in bold
capitals, the motto bold and underlined, place and date in italics, the legal bases in italics, "Điều N." in bold,
"Nơi nhận:" bold italic; the annex on its own page, its table's heading repeated on every page."""

from __future__ import annotations

import io

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_SECTION
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import Table, _Cell, _Row
from docx.text.paragraph import Paragraph

from services.rounds.decision_doc import Annex, Decision

FONT = "Times New Roman"
WIDTH = 16.5  # cm: A4 (21 cm) less the margins, left 3 cm and right 1.5 cm
CENTER, JUSTIFY, LEFT = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.JUSTIFY, WD_ALIGN_PARAGRAPH.LEFT
Container = DocxDocument | _Cell


def _para(
    where: Container,
    text: str = "",
    *,
    size: float = 14,
    bold: bool = False,
    italic: bool = False,
    underline: bool = False,
    align: WD_ALIGN_PARAGRAPH = CENTER,
    before: float = 0,
    after: float = 0,
    indent: bool = False,
) -> Paragraph:
    p = where.add_paragraph()
    p.alignment = align
    fmt = p.paragraph_format
    fmt.space_before, fmt.space_after, fmt.line_spacing = Pt(before), Pt(after), 1.0
    if indent:
        fmt.first_line_indent = Cm(1.27)
    if text:
        run = p.add_run(text)
        run.font.size, run.bold, run.italic, run.underline = Pt(size), bold, italic, underline
    return p


def _border(p: Paragraph, sides: tuple[str, ...]) -> None:
    """A thin black line on the paragraph's `sides` ("top", "left", "bottom", "right"), between its indents."""
    borders = OxmlElement("w:pBdr")
    for side in sides:
        line = OxmlElement(f"w:{side}")
        for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
            line.set(qn(key), value)
        borders.append(line)
    p._p.get_or_add_pPr().append(borders)


def _rule(where: Container, width: float, span: float, before: float = 0) -> None:
    """A short horizontal line of `width` cm, centred in a column `span` cm wide: a paragraph's bottom border."""
    p = _para(where, size=4, before=before)
    side = Cm((span - width) / 2)
    p.paragraph_format.left_indent = p.paragraph_format.right_indent = side
    p.paragraph_format.line_spacing = Pt(4)
    _border(p, ("bottom",))


def _table(doc: DocxDocument, rows: int, widths: list[float]) -> Table:
    """A table of columns `widths` cm wide (set on the grid too: LibreOffice reads the grid, Word the cells)."""
    table: Table = doc.add_table(rows=rows, cols=len(widths))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Cm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = Cm(width)
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    return table


def _no_borders_table(doc: DocxDocument, rows: int, widths: list[float]) -> list[list[_Cell]]:
    table = _table(doc, rows, widths)
    for row in table.rows:
        for cell in row.cells:
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.TOP
    return [[_clear(c) for c in r.cells] for r in table.rows]


def _clear(cell: _Cell) -> _Cell:
    """A new cell holds one empty paragraph: drop it so the cell's first line is ours."""
    for p in list(cell.paragraphs):
        p._p.getparent().remove(p._p)
    return cell


def _header(doc: DocxDocument, d: Decision) -> None:
    draft = _para(doc, d.draft, size=10, bold=True, after=8)
    draft.paragraph_format.right_indent = Cm(WIDTH - 2.4)
    _border(draft, ("top", "left", "bottom", "right"))
    (left, right), (number, place) = _no_borders_table(doc, 2, [6.3, 10.2])
    for line in d.issuer:
        _para(left, line, size=13, bold=True)
    _rule(left, 2.2, 6.3)
    _para(right, d.nation, size=12.5, bold=True)
    _para(right, d.motto, size=13.5, bold=True, underline=True)
    _para(number, d.number, size=13, before=6)
    _para(place, d.place_date, size=14, italic=True, before=6)


def _body(doc: DocxDocument, d: Decision) -> None:
    _para(doc, d.title, bold=True, before=18)
    _para(doc, d.subject, bold=True)
    _rule(doc, 4.5, WIDTH, before=2)
    _para(doc, d.authority, bold=True, before=12, after=12)
    for line in d.bases:
        _para(doc, line, italic=True, align=JUSTIFY, indent=True, after=6)
    _para(doc, d.decides, bold=True, before=6, after=12)
    for article in d.articles:
        p = _para(doc, align=JUSTIFY, indent=True, after=6)
        label = p.add_run(f"{article.label} ")
        label.bold, label.font.size = True, Pt(14)
        p.add_run(article.text).font.size = Pt(14)


def _signature(doc: DocxDocument, d: Decision) -> None:
    _para(doc, size=6)
    ((recipients, signer),) = _no_borders_table(doc, 1, [8.0, 8.5])
    _para(recipients, d.recipients_title, size=12, bold=True, italic=True, align=LEFT)
    for line in d.recipients:
        _para(recipients, line, size=11, align=LEFT)
    for line in d.signer:
        _para(signer, line, bold=True)
    for _ in range(4):
        _para(signer)
    _para(signer, d.signer_name, bold=True)


def _row_flags(row: _Row, *flags: str) -> None:
    """Row properties: "tblHeader" (repeated at the top of every page), "cantSplit" (kept whole on one page)."""
    props = row._tr.get_or_add_trPr()
    for flag in flags:
        element = OxmlElement(f"w:{flag}")
        element.set(qn("w:val"), "true")
        props.append(element)


def _annex(doc: DocxDocument, annex: Annex) -> None:
    doc.add_section(WD_SECTION.NEW_PAGE)
    for line in annex.title:
        _para(doc, line, bold=True)
    _para(doc, annex.reference, italic=True)
    _rule(doc, 4.5, WIDTH, before=2)
    _para(doc, size=6)
    spec = annex.table
    table = _table(doc, 1 + len(spec.rows), [WIDTH * w for w in spec.widths])
    table.style = "Table Grid"
    for r, values in enumerate([spec.headers, *spec.rows]):
        _row_flags(table.rows[r], *(("tblHeader",) if r == 0 else ()), "cantSplit")
        for c, (cell, value) in enumerate(zip(table.rows[r].cells, values, strict=True)):
            align = CENTER if r == 0 or spec.centred[c] else LEFT
            _para(_clear(cell), value, size=13, bold=r == 0, align=align, before=2, after=2)
    _para(doc, annex.closing, size=13, italic=True, align=LEFT, before=6)


def decision_docx(d: Decision) -> bytes:
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(14)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(1.5)
    doc.core_properties.title = f"{d.title} {d.subject}"
    doc.core_properties.language = "vi-VN"
    _header(doc, d)
    _body(doc, d)
    _signature(doc, d)
    _annex(doc, d.annex)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
