"""Every mail, of every kind and every outcome, in Vietnamese and in English, reads as people speak: the round as
"kỳ đánh giá năm 2027", days dd/mm/yyyy, no code, no raw id, each language on its own, and a link to the web page a
person opens (never the JSON API). The mails are those the system writes (tests/notify/mail_cases.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from notify.events import NotificationKind
from tests import vocabulary
from tests.notify.mail_cases import NAMES, OUTCOMES, PUBLIC, TYPED, Mail, all_mails

URL = re.compile(r"https?://\S+")


def visible(mail: Mail) -> str:
    """What a person reads, links aside (a link carries ids by nature; it is checked on its own)."""
    return URL.sub(" ", f"{mail.rendered.subject}\n{mail.rendered.body}")


def problems(text: str, lang: str) -> list[str]:
    """tests/vocabulary.py's check, names and typed text (the people's own) taken out."""
    return vocabulary.problems(text, lang, (*NAMES[lang].values(), *TYPED[lang].values()) if lang == "en" else ())


def test_the_checks_catch_what_the_old_mails_said() -> None:
    old_vi = (
        "Xã A (01234) không nộp hồ sơ là xã, phường, thị trấn phù hợp với trẻ em trong đợt qd06-2019:2024.\n"
        "Quyết định số: 12 ngày 2027-12-01.\n"
        "Lý do: the ladder of dossier_submission ended without action: not_submitted"
    )
    found = problems(old_vi, "vi")
    assert "round id 'qd06-2019:2024'" in found and "ISO date '2027-12-01'" in found
    assert "code 'dossier_submission'" in found and "English word 'ladder'" in found
    assert problems("Dear Lan, the dossier of Xã A was returned", "en") == ["Vietnamese word 'Xã'"]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_kind_and_every_outcome_is_written(lang: str) -> None:
    mails = all_mails(lang)
    kinds = {m.event.kind for m in mails} | {NotificationKind.DAILY_DIGEST}
    assert kinds == set(NotificationKind)
    assert {m.event.context["result"] for m in mails if m.event.kind == NotificationKind.DECISION_MADE} == set(OUTCOMES)
    assert all(m.rendered.locale == lang for m in mails)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_mail_reads_as_people_speak(lang: str) -> None:
    mails = all_mails(lang)
    found = {m.name: problems(visible(m), lang) for m in mails}
    assert {name: p for name, p in found.items() if p} == {}
    for mail in mails:
        assert "\n" not in mail.rendered.subject and mail.rendered.subject.startswith("[xptt] "), mail.name
        assert mail.rendered.body.startswith("Kính gửi " if lang == "vi" else "Dear "), mail.name


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_link_is_the_web_page_a_person_opens(lang: str) -> None:
    for mail in all_mails(lang):
        links = URL.findall(mail.rendered.body)
        assert links and mail.link in links, mail.name
        assert all(link.startswith(f"{PUBLIC}/web/") for link in links), (mail.name, links)
        assert "/v1/" not in mail.rendered.body, mail.name
        page = (mail.link or "").removeprefix(PUBLIC)
        if mail.name == "daily_digest":
            assert page == "/web/tasks"
        elif mail.event.kind in (NotificationKind.ROUND_OPENED, NotificationKind.ROUND_CLOSED):
            assert page == f"/web/rounds/{mail.event.context['round_id']}?province={mail.event.province_code}"
        elif mail.event.task_id:
            assert page == f"/web/tasks/{mail.event.task_id}", mail.name
        else:
            assert page == f"/web/cases/{mail.event.case_id}", mail.name


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_dates_are_day_month_year_and_times_are_vietnam_time(lang: str) -> None:
    by_name = {m.name: m for m in all_mails(lang)}
    opened = by_name["task_assigned+due_at+stage"]
    due = datetime.fromisoformat(opened.event.context["due_at"])
    assert due == datetime(2027, 10, 29, 10, 0, tzinfo=UTC)  # 17:00 in Vietnam
    assert opened.rendered.subject.endswith("29/10/2027 17:00")
    assert by_name["decision_made:recognised"].rendered.body.count("30/11/2027") == 1
    rounds = by_name["round_closed"].rendered
    assert rounds.subject.startswith("[xptt] Kết thúc kỳ đánh giá năm 2027" if lang == "vi" else "[xptt] The 2027")


def test_the_mails_name_stages_and_roles_as_the_glossary_does() -> None:
    import glossary

    mails = {m.name: m.rendered for m in all_mails("vi")}
    council = mails["task_assigned+objections+due_at+stage"]
    assert glossary.term("stage", "council_assessment") in council.subject
    assert glossary.term("role", "council_chair") in council.body
    handed = mails["task_assigned+handed_over_from+due_at+stage"].body
    assert f"được chuyển từ {glossary.term('role', 'district_appraiser')}" in handed
    assert "kỳ đánh giá năm 2024" in handed and "01/07/2025" in handed
