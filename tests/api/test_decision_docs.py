"""The documents officials used to make by hand, from a round driven to its end with real PostgreSQL and Temporal:
the draft recognition decision as DOCX and PDF and its annex's unit list as XLSX list exactly the units recognised
(none of those that failed), in Decree 30/2020/NĐ-CP's layout; refused (409) while no unit is recognised, and to
whoever may not read the round's report; the same files from the round's page and from `xptt round decision` and
`xptt round report --format xlsx` run as processes. The PDF's first page and its annex page are written to
var/screenshots/decision-first-page.png and decision-annex.png."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pypdf
import pypdfium2
import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from db.models import UnitRow
from domain.decision_basis import decision_wording
from domain.rulesets import load_rule_set
from domain.stages import Role, Stage
from domain.units import load_provinces
from services.rounds.decision_doc import build_decision
from services.rounds.decision_pdf import PdfFontMissing, font_files
from services.rounds.schemas import ReportOut, UnitResult
from tests.api.helpers import add_official, problem
from tests.api.test_report_targets import _failing
from tests.cli.test_bulk_cli import _xptt
from tests.support import PROVINCE, ROUND_ID, Stack, form_for, running_stack, token_for
from tests.web.cases import close_case

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
URL = f"/v1/rounds/{ROUND_ID}/decision"
HEADERS = ["STT", "Đơn vị", "Loại đơn vị", "Tổng điểm"]  # the glossary's (web/i18n.py, web/text_case.py)
NATION, MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"


def _named(name: str, text: str) -> bool:
    """The unit's name stands in the text as a whole name (not as the start of a longer one)."""
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text) is not None


async def _names(stack: Stack, codes: list[str]) -> list[str]:
    async with stack.sessions() as session:
        found = dict((await session.execute(select(UnitRow.code, UnitRow.name).where(UnitRow.code.in_(codes)))).all())
    return [found[c] for c in sorted(codes)]


def _docx_checks(content: bytes, recognised: list[str], failed: list[str]) -> None:
    doc = Document(io.BytesIO(content))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    text = "\n".join([p.text for p in doc.paragraphs] + cells)
    header = doc.tables[0]
    runs = {r.text: r for cell in header.rows[0].cells for p in cell.paragraphs for r in p.runs}
    assert runs[NATION].bold and runs[MOTTO].bold and runs[MOTTO].underline, runs
    assert "ỦY BAN NHÂN DÂN" in runs and "TỈNH HƯNG YÊN" in runs and runs["TỈNH HƯNG YÊN"].bold, runs
    assert "Số: ……/QĐ-UBND" in text and "Hưng Yên, ngày …… tháng …… năm ……" in text, text
    assert "CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH HƯNG YÊN" in text
    assert "Căn cứ Quyết định 06/QĐ-TTg ngày 03/01/2019 của Thủ tướng Chính phủ" in text  # the rule file's basis
    article = next(p for p in doc.paragraphs if p.text.startswith("Điều 1."))
    assert article.runs[0].bold and f"Công nhận {len(recognised)} " in article.text, article.text
    assert "Nơi nhận:" in text and "KT. CHỦ TỊCH" in text
    annex = [[c.text for c in row.cells] for row in doc.tables[-1].rows]
    assert annex[0] == HEADERS
    assert [(r[0], r[1]) for r in annex[1:]] == [(str(i), n) for i, n in enumerate(recognised, 1)], annex
    assert {r[2] for r in annex[1:]} == {"xã, phường, thị trấn khác"} and {r[3] for r in annex[1:]} == {"1000"}
    assert not [n for n in failed if _named(n, text)], text


def _pdf_checks(content: bytes, recognised: list[str], failed: list[str]) -> None:
    pages = [p.extract_text() for p in pypdf.PdfReader(io.BytesIO(content)).pages]
    first, text = pages[0], "\n".join(pages)
    assert NATION in first and MOTTO in first and "QUYẾT ĐỊNH" in first and "Điều 1." in first, first
    assert [n for n in recognised if not _named(n, text)] == [] and [n for n in failed if _named(n, text)] == [], text
    annex = next(i for i, page in enumerate(pages) if page.startswith("DANH SÁCH"))
    assert annex > 0 and " ".join(HEADERS) in pages[annex], pages[annex]
    SHOTS.mkdir(parents=True, exist_ok=True)
    pdf = pypdfium2.PdfDocument(content)
    for index, name in ((0, "decision-first-page.png"), (annex, "decision-annex.png")):
        pdf[index].render(scale=1.6).to_pil().save(SHOTS / name)


def _xlsx_checks(content: bytes, recognised: list[str]) -> None:
    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["Đơn vị được công nhận"]
    rows = list(book.active.iter_rows(values_only=True))
    assert list(rows[0]) == HEADERS
    assert [r[:2] for r in rows[1:]] == [(i, n) for i, n in enumerate(recognised, 1)] and rows[1][3] == 1000, rows


async def test_the_draft_decision_lists_exactly_the_units_recognised(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    async with running_stack(temporal_env.client, database_url, sessions) as stack:
        admin = stack.headers("admin")
        params = {"province": PROVINCE, "format": "docx"}
        failed_cases = [await close_case(stack, _failing(3)), await close_case(stack, _failing(5))]
        declined = {Stage.REGISTRATION: form_for(Stage.REGISTRATION, registered=False)}
        failed_cases.append(await close_case(stack, declined))
        refused = await stack.http.get(URL, params=params, headers=admin)
        assert problem(refused, 409)["code"] == "no_recognised_units", refused.text  # not an empty annex

        cases = [await close_case(stack, {}) for _ in range(3)]
        recognised = await _names(stack, [c.unit_code for c in cases])
        failed = await _names(stack, [c.unit_code for c in failed_cases])

        docx = await stack.http.get(URL, params=params, headers=admin)
        assert docx.status_code == 200, docx.text
        assert docx.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.wordprocessing")
        assert 'filename="du-thao-quyet-dinh-2027-33.docx"' in docx.headers["content-disposition"]
        _docx_checks(docx.content, recognised, failed)

        pdf = await stack.http.get(URL, params=params | {"format": "pdf"}, headers=stack.headers("auditor"))
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf", pdf.text
        _pdf_checks(pdf.content, recognised, failed)

        xlsx = await stack.http.get(URL, params=params | {"format": "xlsx"}, headers=admin)
        assert xlsx.status_code == 200, xlsx.text
        _xlsx_checks(xlsx.content, recognised)

        await _refused_to_others(stack, params)
        await _from_the_round_page(stack, recognised)
        await _from_the_command_line(stack, database_url, temporal_env, tmp_path, recognised)


async def _refused_to_others(stack: Stack, params: dict[str, str]) -> None:
    """Who may not read the round's report may not download its decision: a commune officer, another province's
    administrator; a format that is not one is refused naming it."""
    officer = await stack.http.get(URL, params=params, headers=stack.headers("commune_officer"))
    problem(officer, 403, "forbidden")
    other = await add_official(stack.sessions, "admin-elsewhere", Role.ADMIN, "12", None)
    elsewhere = await stack.http.get(URL, params=params, headers={"Authorization": f"Bearer {token_for(other)}"})
    problem(elsewhere, 403, "forbidden")
    bad = await stack.http.get(URL, params=params | {"format": "odt"}, headers=stack.headers("admin"))
    assert problem(bad, 422)["field"] == "query.format", bad.text


async def _from_the_round_page(stack: Stack, recognised: list[str]) -> None:
    async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=30) as web:
        assert (await web.post("/web/signin", data={"token": stack.tokens["admin"]})).status_code == 303
        page = (await web.get(f"/web/rounds/{ROUND_ID}", params={"province": PROVINCE})).text
        links = re.findall(r'<a href="([^"]+)" download>([^<]+)</a>', page)
        labels = {label: href.replace("&amp;", "&") for href, label in links}
        assert set(labels) == {
            "Báo cáo kỳ đánh giá (XLSX)",
            "Dự thảo quyết định công nhận (DOCX)",
            "Dự thảo quyết định công nhận (PDF)",
            "Danh sách đơn vị được công nhận (XLSX)",
        }, links
        got = await web.get(labels["Dự thảo quyết định công nhận (PDF)"])
        assert got.status_code == 200 and got.headers["content-type"] == "application/pdf"
        assert [n for n in recognised if not _named(n, "".join(p.extract_text() for p in _pages(got.content)))] == []
        workbook = await web.get(labels["Danh sách đơn vị được công nhận (XLSX)"])
        _xlsx_checks(workbook.content, recognised)
        report = await web.get(labels["Báo cáo kỳ đánh giá (XLSX)"])
        assert load_workbook(io.BytesIO(report.content)).sheetnames[:2] == ["Tổng hợp", "Đơn vị"]


def _pages(content: bytes) -> list[pypdf.PageObject]:
    return list(pypdf.PdfReader(io.BytesIO(content)).pages)


async def _from_the_command_line(
    stack: Stack, database_url: str, temporal_env: WorkflowEnvironment, tmp_path: Path, recognised: list[str]
) -> None:
    env = {
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
    }
    target = tmp_path / "du-thao.docx"
    code, out = await _xptt(env, "round", "decision", ROUND_ID, "--province", PROVINCE, "--out", str(target))
    assert code == 0 and "Dự thảo quyết định công nhận (DOCX)" in out, out
    annex = Document(str(target)).tables[-1]
    assert [row.cells[1].text for row in annex.rows][1:] == recognised

    sheet = tmp_path / "danh-sach.xlsx"
    code, out = await _xptt(
        env, "round", "decision", ROUND_ID, "--province", PROVINCE, "--format", "xlsx", "--out", str(sheet)
    )
    assert code == 0, out
    _xlsx_checks(sheet.read_bytes(), recognised)

    report = tmp_path / "bao-cao.xlsx"
    code, out = await _xptt(
        env, "round", "report", ROUND_ID, "--province", PROVINCE, "--format", "xlsx", "--out", str(report)
    )
    assert code == 0, out
    units = list(load_workbook(report)["Đơn vị"].iter_rows(values_only=True))
    assert units[0][:3] == ("Mã đơn vị", "Đơn vị", "Loại đơn vị") and set(recognised) <= {r[1] for r in units}

    nowhere = tmp_path / "none.pdf"
    no_font = env | {"XPTT_PDF_FONT_DIR": str(tmp_path / "fonts")}
    code, out = await _xptt(
        no_font, "round", "decision", ROUND_ID, "--province", PROVINCE, "--format", "pdf", "--out", str(nowhere)
    )
    assert code == 2 and "XPTT_PDF_FONT_DIR" in out and "DejaVuSerif.ttf" in out and not nowhere.exists(), out
    code, out = await _xptt(env, "round", "decision", "qd06-2019:2024", "--province", PROVINCE, "--out", str(nowhere))
    assert code == 3 and "qd06-2019:2024" in out and not nowhere.exists(), out  # no such round opened
    code, out = await _xptt(env, "round", "report", ROUND_ID, "--province", PROVINCE, "--format", "xlsx")
    assert code == 2 and "--out" in out, out


def test_a_missing_font_names_the_setting(tmp_path: Path) -> None:
    (tmp_path / "DejaVuSerif.ttf").write_bytes(b"")
    with pytest.raises(PdfFontMissing, match=r"DejaVuSerif-Bold\.ttf.*XPTT_PDF_FONT_DIR"):
        font_files(tmp_path)


def test_a_city_decision_names_the_city_and_the_kinds_of_units_in_the_laws_order() -> None:
    """Hà Nội, a centrally-run city: "THÀNH PHỐ HÀ NỘI", dated "Hà Nội, ngày …", its units' kinds in the law's order
    (xã before phường), and the annex lists the recognised units only, their locality type by the glossary's name."""
    rows = [
        UnitResult(
            unit_code=code,
            unit_name=name,
            locality_type=locality,
            stage="closed",
            status="closed",
            outcome=outcome,
            total=total,
            threshold=900,
        )
        for code, name, locality, outcome, total in (
            ("00004", "Phường Ba Đình", "central-city-ward", "recognised", 950),
            ("00008", "Phường Ngọc Hà", "central-city-ward", "not_recognised", 700),
            ("09999", "Xã Sóc Sơn", "other", "recognised", 880),
        )
    ]
    report = ReportOut(
        round_id="qd06-2019:2027",
        province="01",
        rule_set_id="qd06-2019",
        final=True,
        units=3,
        registered=3,
        assessed=3,
        submitted=3,
        recognised=2,
        not_recognised=1,
        not_registered=0,
        not_submitted=0,
        withdrawn=0,
        recognised_share=0.6667,
        results=rows,
        generated_at=datetime(2027, 12, 31, tzinfo=UTC),
        recorded=None,
    )
    hanoi = next(p for p in load_provinces() if p.code == "01")
    d = build_decision(
        report,
        rule_set=load_rule_set("qd06-2019"),
        wording=decision_wording("two-tier"),
        province=hanoi,
        division_types={"00004": "phường", "00008": "phường", "09999": "xã"},
    )
    assert d.issuer == ["ỦY BAN NHÂN DÂN", "THÀNH PHỐ HÀ NỘI"] and d.place_date.startswith("Hà Nội, ngày ……")
    assert d.authority == "CHỦ TỊCH ỦY BAN NHÂN DÂN THÀNH PHỐ HÀ NỘI"
    assert d.subject == "Về việc công nhận xã, phường đạt tiêu chuẩn xã, phường, thị trấn phù hợp với trẻ em năm 2027"
    assert d.articles[0].text.startswith("Công nhận 2 xã, phường đạt")
    assert d.articles[2].text.startswith("Chánh Văn phòng Ủy ban nhân dân thành phố, Giám đốc Sở Y tế")
    assert d.recipients[-1] == "- Lưu: VT, SYT." and d.recipients[0] == "- Như Điều 3;"
    assert d.annex.table.rows == [
        ["1", "Phường Ba Đình", "phường thuộc thành phố trực thuộc trung ương", "950"],
        ["2", "Xã Sóc Sơn", "xã, phường, thị trấn khác", "880"],
    ]
