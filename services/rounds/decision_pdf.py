"""The draft recognition decision as PDF (fpdf2), from the same document model as the DOCX: A4, the margins and
emphasis of Decree 30/2020/NĐ-CP, in DejaVu Serif (a serif face with every Vietnamese glyph, the nearest free
match for the decree's Times New Roman), embedded.

The font is read from a directory, `XPTT_PDF_FONT_DIR` (default /usr/share/fonts/truetype/dejavu, where Debian's
fonts-dejavu-core and fonts-dejavu-extra put it): the four faces regular, bold, italic and bold italic. Without them
the PDF cannot be made and `PdfFontMissing` says which file is missing and which setting to change.
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF, FontFace
from fpdf.enums import Align, TableCellFillMode, XPos, YPos

from services.rounds.decision_doc import Annex, Decision

FAMILY = "DejaVuSerif"
FACES = {
    "": "DejaVuSerif.ttf",
    "B": "DejaVuSerif-Bold.ttf",
    "I": "DejaVuSerif-Italic.ttf",
    "BI": "DejaVuSerif-BoldItalic.ttf",
}
LEFT, TOP, RIGHT, BOTTOM = 30.0, 20.0, 15.0, 20.0  # mm, Decree 30: left 30–35, right 15–20, top and bottom 20–25
WIDTH = 210.0 - LEFT - RIGHT
ISSUER_W = 62.0  # the issuing body's column; the national name's is the rest
BODY = 12.5  # pt: DejaVu Serif sets wider than Times New Roman, so each size is about a point under the DOCX's
LINE = 1.35  # line height, as a multiple of the font size


class PdfFontMissing(RuntimeError):
    """The PDF's font is not where XPTT_PDF_FONT_DIR says: which files, in which directory."""

    def __init__(self, message: str, *, missing: list[str], font_dir: Path) -> None:
        super().__init__(message)
        self.missing = missing
        self.font_dir = font_dir


def font_files(font_dir: Path) -> dict[str, Path]:
    """The four faces of DejaVu Serif in `font_dir`; PdfFontMissing naming the missing files and the setting."""
    files = {style: font_dir / name for style, name in FACES.items()}
    missing = [p.name for p in files.values() if not p.is_file()]
    if missing:
        raise PdfFontMissing(
            f"the decision's PDF needs the DejaVu Serif font: {', '.join(missing)} not found in {font_dir} "
            "(set XPTT_PDF_FONT_DIR to a directory holding DejaVuSerif.ttf and its Bold, Italic and BoldItalic "
            "faces; on Debian: apt-get install fonts-dejavu-core fonts-dejavu-extra)",
            missing=missing,
            font_dir=font_dir,
        )
    return files


def _mm(pt: float) -> float:
    return pt * LINE * 25.4 / 72


class _Pdf(FPDF):
    def style(self, size: float, emphasis: str = "") -> float:
        """Set the face and size; the line height in mm."""
        self.set_font(FAMILY, emphasis, size)
        return _mm(size)

    def centred(self, text: str, size: float, emphasis: str = "", *, x: float = LEFT, w: float = WIDTH) -> None:
        h = self.style(size, emphasis)
        self.set_x(x)
        self.multi_cell(w, h, text, align=Align.C, new_x=XPos.LEFT, new_y=YPos.NEXT)

    def rule(self, width: float, *, x: float = LEFT, w: float = WIDTH) -> None:
        """A short horizontal line under the text above, centred in the column at x, w."""
        y = self.get_y() + 2
        self.set_line_width(0.3)
        self.line(x + (w - width) / 2, y, x + (w + width) / 2, y)
        self.set_y(y + 2)

    def paragraph(self, parts: list[tuple[str, str]], size: float = BODY, *, after: float = 1.5) -> None:
        """A justified paragraph, its first line indented 12.7 mm; `parts` (emphasis, text) run on in one line."""
        columns = self.text_columns(text_align=Align.J, line_height=LINE, l_margin=LEFT, r_margin=RIGHT)
        with columns as cols, cols.paragraph(first_line_indent=12.7, bottom_margin=after) as par:
            for emphasis, text in parts:
                self.style(size, emphasis)
                par.write(text)


def _header(pdf: _Pdf, d: Decision) -> None:
    h = pdf.style(9, "B")
    box = pdf.get_string_width(d.draft) + 6
    pdf.set_xy(LEFT, TOP - 8)
    pdf.cell(box, h + 1, d.draft, border=1, align=Align.C)
    right_x, right_w = LEFT + ISSUER_W, WIDTH - ISSUER_W
    pdf.set_y(TOP)
    for line in d.issuer:
        pdf.centred(line, 11.5, "B", w=ISSUER_W)
    pdf.rule(22, w=ISSUER_W)
    left_end = pdf.get_y()
    pdf.set_y(TOP)
    pdf.centred(d.nation, 11, "B", x=right_x, w=right_w)
    pdf.centred(d.motto, 12, "BU", x=right_x, w=right_w)
    row = max(left_end, pdf.get_y()) + 3
    pdf.set_y(row)
    pdf.centred(d.number, 12, w=ISSUER_W)
    pdf.set_y(row)
    pdf.centred(d.place_date, 12, "I", x=right_x, w=right_w)


def _body(pdf: _Pdf, d: Decision) -> None:
    pdf.ln(9)
    pdf.centred(d.title, 13, "B")
    pdf.centred(d.subject, 12.5, "B")
    pdf.rule(45)
    pdf.ln(4)
    pdf.centred(d.authority, 12.5, "B")
    pdf.ln(4)
    for line in d.bases:
        pdf.paragraph([("I", line)])
    pdf.ln(2)
    pdf.centred(d.decides, 12.5, "B")
    pdf.ln(3)
    for article in d.articles:
        pdf.paragraph([("B", f"{article.label} "), ("", article.text)])


def _signature(pdf: _Pdf, d: Decision) -> None:
    lines = _mm(12) * (len(d.signer) + 5)
    needed = max(_mm(11) * (len(d.recipients) + 1), lines) + 6
    if pdf.get_y() + needed > pdf.h - BOTTOM:
        pdf.add_page()
    top = pdf.get_y() + 6
    left_w = 78.0
    pdf.set_xy(LEFT, top)
    pdf.cell(left_w, pdf.style(11.5, "BI"), d.recipients_title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for line in d.recipients:
        pdf.set_x(LEFT)
        pdf.multi_cell(left_w, pdf.style(10.5), line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    recipients_end = pdf.get_y()
    pdf.set_y(top)
    for line in d.signer:
        pdf.centred(line, 12.5, "B", x=LEFT + left_w, w=WIDTH - left_w)
    pdf.ln(_mm(12) * 4)
    pdf.centred(d.signer_name, 12.5, "B", x=LEFT + left_w, w=WIDTH - left_w)
    pdf.set_y(max(recipients_end, pdf.get_y()))


def _annex(pdf: _Pdf, annex: Annex) -> None:
    pdf.add_page()
    for line in annex.title:
        pdf.centred(line, 12.5, "B")
    pdf.centred(annex.reference, 12, "I")
    pdf.rule(45)
    pdf.ln(4)
    spec = annex.table
    pdf.style(11.5)
    aligns = tuple(Align.C if c else Align.L for c in spec.centred)
    with pdf.table(
        col_widths=tuple(spec.widths),
        width=WIDTH,
        align=Align.L,
        text_align=aligns,
        line_height=_mm(11.5),
        padding=(1.2, 1.5),
        headings_style=FontFace(emphasis="BOLD", fill_color=None),
        cell_fill_mode=TableCellFillMode.NONE,
        repeat_headings=1,
    ) as table:
        heading = table.row()
        for header in spec.headers:
            heading.cell(header, align=Align.C)
        for values in spec.rows:
            row = table.row()
            for value in values:
                row.cell(value)
    pdf.ln(3)
    pdf.set_x(LEFT)
    pdf.multi_cell(WIDTH, pdf.style(11.5, "I"), annex.closing)


def decision_pdf(d: Decision, font_dir: Path) -> bytes:
    """The decision as PDF bytes; PdfFontMissing when the font is not in `font_dir`."""
    pdf = _Pdf(orientation="P", unit="mm", format="A4")
    for emphasis, path in font_files(font_dir).items():
        pdf.add_font(FAMILY, emphasis, str(path))
    pdf.set_margins(LEFT, TOP, RIGHT)
    pdf.set_auto_page_break(True, margin=BOTTOM)
    pdf.set_title(f"{d.title} {d.subject}")
    pdf.set_lang("vi-VN")
    pdf.set_creator("xptt")
    pdf.add_page()
    _header(pdf, d)
    _body(pdf, d)
    _signature(pdf, d)
    _annex(pdf, d.annex)
    return bytes(pdf.output())
