"""One mail per outcome, each saying what happened and only that, in official phrasing: a recognition with its
decision, a refusal with the verdict's reasons worded from their codes, a case closed for not registering or not
submitting its dossier, a withdrawal, a refusal at appraisal, a commendation awarded or not (never a second
"decision" claiming recognition). Set XPTT_ARTIFACTS to a directory to keep each Vietnamese mail as
mail-<outcome>.txt."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from domain.stages import Role
from notify.events import NotificationKind
from tests.notify.mail_cases import CASE, OUTCOMES, PUBLIC, Mail, all_mails, journey

CASE_PAGE = f"{PUBLIC}/web/cases/{CASE}"
UNIT = {"vi": "Xã Tân Hưng (11953)", "en": "Tan Hung Commune (11953)"}
CLOSED = {
    "vi": "Lượt xét công nhận của Xã Tân Hưng (11953), kỳ đánh giá năm 2027, đã kết thúc vì ",
    "en": "The recognition case of Tan Hung Commune (11953), the 2027 assessment round, has closed: ",
}

# Per outcome and language: the subject, the lines the body must hold (each whole), and what it must not say.
EXPECTED: dict[str, dict[str, tuple[str, list[str]]]] = {
    "recognised": {
        "vi": (
            "[xptt] Kết quả xét công nhận: Xã Tân Hưng được công nhận",
            [
                "Xã Tân Hưng (11953) được công nhận đạt tiêu chuẩn xã, phường, thị trấn phù hợp với trẻ em, "
                "kỳ đánh giá năm 2027.",
                "Quyết định công nhận số 123/QĐ-UBND ngày 30/11/2027.",
            ],
        ),
        "en": (
            "[xptt] Recognition result: Tan Hung Commune recognised",
            [
                "Tan Hung Commune (11953) is recognised as meeting the standard of a child-friendly commune, ward or "
                "town, the 2027 assessment round.",
                "Recognition decision no. 123/QD-UBND of 30/11/2027.",
            ],
        ),
    },
    "not_recognised": {
        "vi": (
            "[xptt] Kết quả xét công nhận: Xã Tân Hưng không được công nhận",
            [
                "Xã Tân Hưng (11953) không được công nhận đạt tiêu chuẩn xã, phường, thị trấn phù hợp với trẻ em, "
                "kỳ đánh giá năm 2027.",
                "Quyết định số 123/QĐ-UBND ngày 30/11/2027.",
                "Lý do:",
                "- tiêu chí 3 đạt 0 điểm",
                "- Chưa bảo đảm an toàn cho trẻ em",
            ],
        ),
        "en": (
            "[xptt] Recognition result: Tan Hung Commune not recognised",
            [
                "Tan Hung Commune (11953) is not recognised as meeting the standard of a child-friendly commune, "
                "ward or town, the 2027 assessment round.",
                "Reasons:",
                "- criterion 3 scored 0",
                "- Child safety is not ensured",
            ],
        ),
    },
    "refused_at_appraisal": {
        "vi": (
            "[xptt] Kết quả thẩm định: hồ sơ của Xã Tân Hưng không được chấp nhận",
            [
                CLOSED["vi"] + "cơ quan thẩm định không chấp nhận hồ sơ.",
                "Xã Tân Hưng không được công nhận đạt tiêu chuẩn xã, phường, thị trấn phù hợp với trẻ em trong kỳ "
                "đánh giá này.",
                "Ý kiến thẩm định: Số liệu tiêu chí 3 không có nguồn",
            ],
        ),
        "en": (
            "[xptt] Appraisal result: the dossier of Tan Hung Commune was refused",
            [
                CLOSED["en"] + "the appraising office refused the dossier.",
                "Appraisal findings: Criterion 3 data has no source",
            ],
        ),
    },
    "not_registered": {
        "vi": (
            "[xptt] Kết thúc lượt xét công nhận: Xã Tân Hưng không đăng ký phấn đấu",
            [
                CLOSED["vi"] + "đơn vị không đăng ký phấn đấu trong thời hạn.",
                'Bước "Đăng ký phấn đấu" không được hoàn thành trước hạn 29/10/2027 17:00 (giờ Việt Nam).',
                "Xã Tân Hưng không được xét công nhận trong kỳ đánh giá này.",
            ],
        ),
        "en": (
            "[xptt] Recognition case closed: Tan Hung Commune did not register",
            [CLOSED["en"] + "the unit did not register in time."],
        ),
    },
    "not_submitted": {
        "vi": (
            "[xptt] Kết thúc lượt xét công nhận: Xã Tân Hưng không nộp hồ sơ đề nghị công nhận",
            [
                CLOSED["vi"] + "hồ sơ đề nghị công nhận không được nộp trong thời hạn.",
                'Bước "Nộp hồ sơ đề nghị công nhận" không được hoàn thành trước hạn 22/10/2027 17:00 (giờ Việt Nam).',
                "Xã Tân Hưng không được xét công nhận trong kỳ đánh giá này.",
            ],
        ),
        "en": (
            "[xptt] Recognition case closed: Tan Hung Commune did not submit its dossier",
            [CLOSED["en"] + "the dossier was not submitted in time."],
        ),
    },
    "withdrawn": {
        "vi": (
            "[xptt] Kết thúc lượt xét công nhận: Xã Tân Hưng rút khỏi kỳ đánh giá năm 2027",
            [CLOSED["vi"] + "đơn vị rút khỏi kỳ đánh giá.", "Lý do: UBND xã đề nghị rút do sáp nhập đơn vị"],
        ),
        "en": (
            "[xptt] Recognition case closed: Tan Hung Commune withdrew from the 2027 assessment round",
            [
                CLOSED["en"] + "the unit withdrew from the round.",
                "Reason: The commune asked to withdraw after a merger",
            ],
        ),
    },
    "commendation_awarded": {
        "vi": (
            "[xptt] Kết quả xét khen thưởng: Xã Tân Hưng được khen thưởng",
            [
                "Xã Tân Hưng (11953) được khen thưởng, kỳ đánh giá năm 2027.",
                "Hình thức khen thưởng: Bằng khen của Chủ tịch UBND cấp tỉnh.",
                "Quyết định khen thưởng số 45/QĐ-UBND ngày 20/12/2027.",
            ],
        ),
        "en": (
            "[xptt] Commendation result: Tan Hung Commune commended",
            [
                "Tan Hung Commune (11953) is commended, the 2027 assessment round.",
                "Commendation: Certificate of merit of the provincial chairman.",
                "Commendation decision no. 45/QD-UBND of 20/12/2027.",
            ],
        ),
    },
    "commendation_not_awarded": {
        "vi": (
            "[xptt] Kết quả xét khen thưởng: Xã Tân Hưng không được khen thưởng",
            [
                "Người có thẩm quyền đã xét và quyết định không khen thưởng Xã Tân Hưng (11953), kỳ đánh giá năm 2027.",
                "Lý do: Chưa đủ điều kiện khen thưởng",
            ],
        ),
        "en": (
            "[xptt] Commendation result: Tan Hung Commune not commended",
            [
                "The competent authority considered and decided not to commend Tan Hung Commune (11953), the 2027 "
                "assessment round.",
                "Reason: Conditions for a commendation are not met",
            ],
        ),
    },
}


def outcome_mail(outcome: str, lang: str) -> Mail:
    [mail] = [m for m in all_mails(lang) if m.name.split("+")[0] == f"decision_made:{outcome}"]
    return mail


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("outcome", OUTCOMES)
def test_each_outcome_says_what_happened(outcome: str, lang: str) -> None:
    mail = outcome_mail(outcome, lang)
    subject, lines = EXPECTED[outcome][lang]
    assert mail.rendered.subject == subject
    body = mail.rendered.body.splitlines()
    missing = [line for line in lines if line not in body]
    assert missing == [], mail.rendered.body
    assert mail.link == CASE_PAGE and f"{CASE_PAGE}\n" in mail.rendered.body and "/v1/" not in mail.rendered.body
    assert set(mail.event.recipients.roles) == {Role.COMMUNE_OFFICER, Role.COMMUNE_CHAIRMAN}
    said_recognised = f"{UNIT[lang]} {'được công nhận' if lang == 'vi' else 'is recognised as meeting'}"
    assert (said_recognised in mail.rendered.body) == (outcome == "recognised")  # nothing else claims it
    artifacts = os.environ.get("XPTT_ARTIFACTS")
    if artifacts and lang == "vi":
        path = Path(artifacts) / f"mail-{outcome}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"Tiêu đề: {mail.rendered.subject}\n\n{mail.rendered.body}", encoding="utf-8")


def test_a_commendation_is_its_own_news_not_a_second_recognition() -> None:
    for awarded in ("commendation_awarded", "commendation_not_awarded"):
        outcomes = [e for e in journey(awarded, "vi").events() if e.kind == NotificationKind.DECISION_MADE]
        assert [e.context["result"] for e in outcomes] == ["recognised", awarded]
        mail = outcome_mail(awarded, "vi").rendered
        assert "Kết quả xét công nhận" not in mail.subject and "Quyết định công nhận" not in mail.body


def test_a_closing_names_no_recognition_and_no_machine_reason() -> None:
    for outcome in ("not_registered", "not_submitted", "withdrawn", "refused_at_appraisal"):
        event = outcome_mail(outcome, "vi").event
        assert event.context["verdict_reasons"] == [] and event.context["decision_number"] is None
        assert not any("ladder" in note or "_" in note for note in event.context["notes"])


def test_the_verdict_reasons_travel_as_codes_and_are_worded_per_language() -> None:
    event = outcome_mail("not_recognised", "vi").event
    [reason] = event.context["verdict_reasons"]
    assert (reason["code"], reason["criterion"]) == ("zero_criterion", 3)
    assert "- criterion 3 scored 0" in outcome_mail("not_recognised", "en").rendered.body
