"""Refusals of a task's form (domain/forms.py, domain/form_dates.py, and the field checks of its model) said in the
page's language. The case's validator sends back the field and an English reason; each reason the procedure gives
has its Vietnamese wording here, its numbers and days carried over (days as dd/mm/yyyy, document kinds by their
glossary names). A reason not listed reads as a plain "this value is not accepted", never as English."""

from __future__ import annotations

import re
from collections.abc import Callable

import glossary

Said = Callable[[re.Match[str]], str]


def _documents(text: str) -> str:
    return ", ".join(glossary.term("document", k.strip()) for k in text.split(","))


FORM_VI: tuple[tuple[re.Pattern[str], Said], ...] = tuple(
    (re.compile(pattern), said)
    for pattern, said in (
        (r"^ends before posted_from$", lambda m: "ngày kết thúc niêm yết sớm hơn ngày bắt đầu"),
        (
            r"^posted for (\d+) working days; the procedure requires (\d+)$",
            lambda m: f"mới niêm yết {m[1]} ngày làm việc; quy trình yêu cầu {m[2]} ngày làm việc",
        ),
        (r"^objection ids repeat$", lambda m: "mã kiến nghị bị lặp lại"),
        (r"^objection (.+) is not answered$", lambda m: f"kiến nghị {m[1]} chưa được trả lời"),
        (r"^objection (.+) is not open on this case$", lambda m: f"kiến nghị {m[1]} không thuộc lượt xét này"),
        (r"^the dossier lacks (.+)$", lambda m: f"hồ sơ còn thiếu: {_documents(m[1])}"),
        (r"^a document kind appears twice$", lambda m: "một loại tài liệu được kê khai hai lần"),
        (r"^a returned dossier says what to complete$", lambda m: "trả hồ sơ phải nêu rõ nội dung cần bổ sung"),
        (
            r"^the dossier was returned (\d+) times, the most allowed; accept it or refuse it$",
            lambda m: f"hồ sơ đã bị trả {m[1]} lần, mức tối đa; xin chấp nhận hoặc từ chối",
        ),
        (r"^a refusal states its reasons in writing$", lambda m: "từ chối phải nêu lý do bằng văn bản"),
        (
            r"^the unit does not meet the standard: (.*)$",
            lambda m: "đơn vị chưa đạt mức công nhận theo kết quả chấm điểm của Hội đồng",
        ),
        (r"^a decision not to recognise states its reasons$", lambda m: "quyết định không công nhận phải nêu lý do"),
        (r"^a commendation carries its decision number$", lambda m: "khen thưởng phải có số quyết định"),
        (r"^a commendation carries its decision date$", lambda m: "khen thưởng phải có ngày quyết định"),
        (r"^a commendation not given states its reasons$", lambda m: "không khen thưởng phải nêu lý do"),
        (r"^a source for a criterion that has no score$", lambda m: "có nguồn số liệu cho tiêu chí chưa được chấm"),
        (
            r"^(\d{4}-\d{2}-\d{2}) is before the round's period, which starts on (\d{4}-\d{2}-\d{2})$",
            lambda m: f"ngày {glossary.day(m[1])} trước khi kỳ đánh giá bắt đầu ({glossary.day(m[2])})",
        ),
        (
            r"^(\d{4}-\d{2}-\d{2}) is in the future: the latest day accepted now is (\d{4}-\d{2}-\d{2})$",
            lambda m: f"ngày {glossary.day(m[1])} ở tương lai: muộn nhất là ngày {glossary.day(m[2])}",
        ),
        (r"^expected a date written YYYY-MM-DD$", lambda m: "ngày không hợp lệ (dd/mm/yyyy)"),
        (r"^expected true or false, not .*$", lambda m: "giá trị không hợp lệ: chọn có hoặc không"),
        (r"^points must be a whole number.*$", lambda m: "số điểm phải là số nguyên"),
        (r"^not a criterion number.*$", lambda m: "không phải số thứ tự của một tiêu chí"),
        (r"^Input should be a valid list.*$", lambda m: "cần một danh sách"),
        (r"^Input should be a valid dictionary.*$", lambda m: "giá trị không hợp lệ"),
        (r"^Field required$", lambda m: "chưa nhập"),
        (r"^Input should be a valid date.*$", lambda m: "ngày không hợp lệ (dd/mm/yyyy)"),
        (r"^Input should be a valid (integer|number).*$", lambda m: "phải là số"),
        (r"^Input should be a valid boolean.*$", lambda m: "giá trị không hợp lệ"),
        (r"^String should have at least 1 character$", lambda m: "chưa nhập"),
        (r"^String should have at most (\d+) characters$", lambda m: f"dài quá {m[1]} ký tự"),
        (r"^List should have at least (\d+) items?.*$", lambda m: f"cần ít nhất {m[1]} mục"),
        (r"^Input should be (.+)$", lambda m: "giá trị không nằm trong các lựa chọn cho phép"),
        (r"^Extra inputs are not permitted$", lambda m: "trường này không được nhận"),
    )
)
UNKNOWN_VI = "giá trị này không được chấp nhận"


def form_refusal_text(detail: str, lang: str) -> str:
    """The reason a task's form was refused (without its field's name), in `lang`."""
    if lang == "en":
        return detail
    for pattern, said in FORM_VI:
        found = pattern.match(detail.strip())
        if found:
            return said(found)
    return UNKNOWN_VI
