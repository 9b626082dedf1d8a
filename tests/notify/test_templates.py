"""Texts: every kind renders in Vietnamese with local due times and a link; English when Vietnamese is missing; an
outcome picks the template of its result. (Every mail as the system writes it: test_mail_wording.py.)"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from notify.events import NotificationKind
from notify.templates import ROLE_NAMES, TemplateMissing, local_day, local_time, render, template_names

CONTEXT = {
    "recipient": "Nguyễn Thị Lan",
    "link": "http://127.0.0.1:8000/web/tasks/qd06-2019:2027-11953-t02",
    "unit_name": "Xã Tân Hưng",
    "unit_code": "11953",
    "case_id": "qd06-2019:2027-11953",
    "task_id": "qd06-2019:2027-11953-t02",
    "round_id": "qd06-2019:2027",
    "stage": "self_assessment",
    "role": "commune_officer",
    "due_at": "2027-10-15T10:00:00+00:00",
    "reason": None,
    "outcome": "recognised",
    "result": "recognised",
    "notes": [],
    "verdict_reasons": [],
    "closed_stage": None,
    "consecutive": None,
    "title_vi": None,
    "title_en": None,
    "decision_number": "QĐ-123/UBND",
    "decision_date": "2027-11-30",
    "day_start": "2027-10-16T00:00:00+07:00",
    "cutoff": "2027-10-16T07:00:00+07:00",
    "items": [{"subject": "[xptt] Nhiệm vụ mới", "link": None, "created_at": "2027-10-15T03:00:00+00:00"}],
}


def test_due_times_are_shown_in_vietnam_time_as_the_pages_show_them() -> None:
    assert local_time("2027-10-15T10:00:00+00:00") == "15/10/2027 17:00"
    assert local_time(datetime(2027, 10, 15, 17, 30, tzinfo=UTC)) == "16/10/2027 00:30"
    assert local_time("2027-10-15T10:00:00+00:00", "en") == "15/10/2027 17:00"
    assert local_day("2027-11-30") == "30/11/2027" and local_day(None) == "—"
    with pytest.raises(ValueError, match="naive"):
        local_time("2027-10-15T10:00:00")


@pytest.mark.parametrize("kind", list(NotificationKind))
def test_every_kind_has_a_vietnamese_text_with_subject_and_link(kind: NotificationKind) -> None:
    rendered = render(kind.value, CONTEXT, locale="vi")
    assert rendered.locale == "vi"
    assert rendered.subject.startswith("[xptt] ")
    assert "\n" not in rendered.subject
    assert "Kính gửi Nguyễn Thị Lan" in rendered.body
    assert "Hệ thống xét công nhận" in rendered.body
    if kind != NotificationKind.DAILY_DIGEST:
        assert CONTEXT["link"] in rendered.body


def test_task_assigned_names_the_stage_unit_round_and_local_due_time() -> None:
    rendered = render("task_assigned", CONTEXT, locale="vi")
    assert rendered.subject == "[xptt] Nhiệm vụ mới: Tự đánh giá - Xã Tân Hưng, hạn 15/10/2027 17:00"
    assert "Công chức văn hóa - xã hội" in rendered.body and "kỳ đánh giá năm 2027" in rendered.body
    assert "qd06-2019:2027" not in rendered.body.replace(CONTEXT["link"], "")  # the id is in the link only


def test_decision_subject_says_whether_the_unit_was_recognised() -> None:
    assert render("decision_made", CONTEXT).subject == "[xptt] Kết quả xét công nhận: Xã Tân Hưng được công nhận"
    reasons = [{"code": "below_threshold", "criterion": None, "total": 80, "threshold": 90}]
    context = {**CONTEXT, "outcome": "not_recognised", "result": "not_recognised", "verdict_reasons": reasons}
    refused = render("decision_made", {**context, "notes": ["thiếu số liệu"]})
    assert refused.subject == "[xptt] Kết quả xét công nhận: Xã Tân Hưng không được công nhận"
    assert "Lý do:\n- tổng điểm 80 thấp hơn mức đạt 90\n- thiếu số liệu\n" in refused.body


def test_an_outcome_picks_the_template_of_its_result_else_of_its_outcome() -> None:
    assert template_names("decision_made", {"result": "refused_at_appraisal", "outcome": "not_recognised"}) == [
        "decision_made_refused_at_appraisal",
        "decision_made_not_recognised",
    ]
    assert template_names("decision_made", {"outcome": "withdrawn"}) == ["decision_made_withdrawn"]
    assert template_names("task_assigned", {"result": "x"}) == ["task_assigned"]
    with pytest.raises(TemplateMissing):
        render("decision_made", {k: v for k, v in CONTEXT.items() if k not in ("result", "outcome")})


def test_role_names_come_from_the_glossary_in_both_languages() -> None:
    import glossary

    assert {lang: glossary.section("role", lang) for lang in ("vi", "en")} == ROLE_NAMES


def test_english_is_used_when_chosen() -> None:
    rendered = render("task_assigned", CONTEXT, locale="en")
    assert rendered.locale == "en"
    assert rendered.subject == "[xptt] New task: Self-assessment - Xã Tân Hưng, due 15/10/2027 17:00"


def test_english_fallback_when_the_vietnamese_template_is_missing(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "custom.j2").write_text(
        "{% block subject %}Hello {{ recipient }}{% endblock %}{% block body %}Body{% endblock %}"
    )
    rendered = render("custom", CONTEXT, locale="vi", directory=tmp_path)
    assert (rendered.locale, rendered.subject) == ("en", "Hello Nguyễn Thị Lan")


def test_a_kind_without_any_template_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(TemplateMissing):
        render("nothing_here", CONTEXT, directory=tmp_path)


def test_a_missing_required_field_is_an_error_not_a_blank() -> None:
    context = {k: v for k, v in CONTEXT.items() if k != "unit_name"}
    with pytest.raises(Exception, match="unit_name"):
        render("task_assigned", context)
