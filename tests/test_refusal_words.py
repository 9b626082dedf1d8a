"""Every refusal a person can meet reads in the glossary's words: the pages and the commands show a code's term, and a
code without one falls back to the service's English reason (the commands) or a bare "refused" (the pages). The
codes are read from the code itself, so a new refusal without a term fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import glossary
from cli.common import refusal_text
from services.errors import Refusal
from services.history.sheet import read_sheet as read_past_rounds
from services.officials.sheets import read_sheet as read_officials
from web.i18n import Translator

ROOT = Path(__file__).resolve().parent.parent
# Where refusals to people are made: the front doors, the services, the case workflow's refusals of an Update and the
# administrators' actions it checks (domain/admin.py). A code made at run time (`Refusal(409, exc.code, …)`) is not
# read here. (A notification's delivery failure is no refusal: the board words it from its own section, `ntf_`.)
PLACES = ("api", "services", "web", "cli", "workflows", "domain")
MAKERS = {"Refusal": 1, "AuthError": 0, "refuse": 0, "AdminActionError": 0}  # the call, which argument is the code
PRECHECKS = "services/bulk/"  # a bulk action's check of one case answers `return "code", "detail"`


def _name(call: ast.Call) -> str | None:
    return call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", None)


def _code_literals(node: ast.AST, path: Path) -> list[ast.expr]:
    if isinstance(node, ast.Return) and PRECHECKS in path.as_posix():
        pair = node.value
        return [pair.elts[0]] if isinstance(pair, ast.Tuple) and len(pair.elts) == 2 else []
    if not isinstance(node, ast.Call):
        return []
    name = _name(node)
    literals: list[ast.expr] = []
    if name in MAKERS and len(node.args) > MAKERS[name]:
        literals.append(node.args[MAKERS[name]])
    if name in ("ApplicationError", "require_read"):
        literals += [k.value for k in node.keywords if k.arg in ("type", "code")]
    return literals


def refusal_codes() -> dict[str, list[str]]:
    """Every refusal code written as a literal where a refusal is made, with where."""
    found: dict[str, list[str]] = {}
    for place in PLACES:
        for path in sorted((ROOT / place).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                for lit in _code_literals(node, path):
                    if isinstance(lit, ast.Constant) and isinstance(lit.value, str):
                        found.setdefault(lit.value, []).append(f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}")
    return found


def test_every_refusal_code_has_its_words_in_both_languages() -> None:
    codes = refusal_codes()
    assert len(codes) >= 80, sorted(codes)  # the scan reads what it should (91 codes on 01/12/2026)
    for sure in ("case_not_found", "invalid_file", "token_expired", "not_started", "already_on_hold", "no_due_time"):
        assert sure in codes
    missing = {code: where for code, where in sorted(codes.items()) if not glossary.known("refusal", code)}
    assert not missing, f"refusal codes without a term in glossary/terms.yaml (section refusal): {missing}"
    for code in codes:
        vi, en = glossary.term("refusal", code), glossary.term("refusal", code, "en")
        assert vi != en and vi.endswith(".") and en.endswith("."), code


BAD_FILES = [
    (read_officials, b"", "empty", "Không đọc được tệp: tệp trống."),
    (
        read_officials,
        b"ma_can_bo,ho_ten\nx,y\n",
        "missing_columns",
        "Không đọc được tệp: dòng tiêu đề thiếu cột vai_tro.",
    ),
    (
        read_officials,
        b"ma_can_bo,ho_ten,vai_tro,ghi_chu\n",
        "unknown_columns",
        "Không đọc được tệp: có cột không nhận biết: ghi_chu; các cột dùng được: ma_can_bo, ho_ten, chuc_vu",
    ),
    (
        read_officials,
        b"ma_can_bo,ho_ten,vai_tro,Ho ten\n",
        "repeated_columns",
        "Không đọc được tệp: cột ho_ten xuất hiện hai lần.",
    ),
    (
        read_officials,
        "ma_can_bo,ho_ten,vai_tro\nx,Lê Văn,admin\n".encode("cp1258", errors="replace") + b"\xff",
        "not_utf8",
        "Không đọc được tệp: tệp CSV không ở mã UTF-8",
    ),
    (read_officials, b"PK\x03\x04 not a workbook", "unreadable_xlsx", "tệp không phải sổ tính XLSX đọc được."),
    (
        read_past_rounds,
        b"nam,so_quyet_dinh,ngay_quyet_dinh\n",
        "none_of_columns",
        "Không đọc được tệp: dòng tiêu đề cần ít nhất một trong các cột ma_don_vi, ten_don_vi.",
    ),
]


@pytest.mark.parametrize(("read", "data", "problem", "vi"), BAD_FILES, ids=[b[2] for b in BAD_FILES])
def test_an_unreadable_file_says_what_is_wrong_in_vietnamese(read: object, data: bytes, problem: str, vi: str) -> None:
    with pytest.raises(Refusal) as caught:
        read(data)  # type: ignore[operator]
    exc = caught.value
    assert (exc.status, exc.code, exc.extra["field"], exc.extra["problem"]) == (422, "invalid_file", "file", problem)
    assert exc.detail.startswith("file: ")  # the API's reason stays the service's own
    page = Translator("vi").refusal(exc.code, exc.detail, exc.extra)
    assert vi in page and "{" not in page
    assert refusal_text(exc) == f"file: {page}"  # the command names the field, then the same words
    assert Translator("en").refusal(exc.code, exc.detail, exc.extra) == exc.detail


def test_every_file_problem_has_its_words() -> None:
    source = (ROOT / "services" / "sheets.py").read_text(encoding="utf-8")
    problems = {
        node.args[0].value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and _name(node) == "bad_file"
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    }
    assert len(problems) == 9, problems
    assert problems <= set(glossary.section("file_problem")), problems - set(glossary.section("file_problem"))
