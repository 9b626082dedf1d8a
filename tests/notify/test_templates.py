"""Texts: every kind renders in Vietnamese with local due times and a link; English when Vietnamese is missing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from notify.events import NotificationKind
from notify.templates import TemplateMissing, local_time, render

CONTEXT = {
    "recipient": "Nguyễn Thị Lan",
    "link": "http://127.0.0.1:8000/v1/tasks/qd06-2019:2027-11953-t02",
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
    "decision_number": "QĐ-123/UBND",
    "decision_date": "2027-11-30",
    "day_start": "2027-10-16T00:00:00+07:00",
    "cutoff": "2027-10-16T07:00:00+07:00",
    "items": [{"subject": "[xptt] Nhiệm vụ mới", "link": None, "created_at": "2027-10-15T03:00:00+00:00"}],
}


def test_due_times_are_shown_in_vietnam_time() -> None:
    assert local_time("2027-10-15T10:00:00+00:00") == "17:00 ngày 15/10/2027"
    assert local_time(datetime(2027, 10, 15, 17, 30, tzinfo=UTC)) == "00:30 ngày 16/10/2027"
    assert local_time("2027-10-15T10:00:00+00:00", "en") == "17:00, 15 Oct 2027 (Vietnam time)"


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


def test_task_assigned_names_the_stage_unit_and_local_due_time() -> None:
    rendered = render("task_assigned", CONTEXT, locale="vi")
    assert rendered.subject == "[xptt] Nhiệm vụ mới: Tự đánh giá - Xã Tân Hưng, hạn 17:00 ngày 15/10/2027"
    assert "Cán bộ văn hóa - xã hội" in rendered.body


def test_decision_subject_says_whether_the_unit_was_recognised() -> None:
    assert render("decision_made", CONTEXT).subject == "[xptt] Kết quả xét công nhận: Xã Tân Hưng được công nhận"
    refused = render("decision_made", {**CONTEXT, "outcome": "not_recognised", "reason": "thiếu số liệu"})
    assert "không được công nhận" in refused.subject
    assert "Lý do: thiếu số liệu" in refused.body


def test_english_is_used_when_chosen() -> None:
    rendered = render("task_assigned", CONTEXT, locale="en")
    assert rendered.locale == "en"
    assert rendered.subject.startswith("[xptt] New task: Self-assessment")


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
