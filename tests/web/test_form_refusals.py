"""Refusals of a task's form in the page's language (web/form_refusals.py): each reason the domain gives for a bad
form — raised here by the domain itself, from bad submissions at every stage — reads in Vietnamese, with its numbers
and days carried over (dd/mm/yyyy), never in English and never as the catch-all; in English the domain's own
words are kept. On the task page, the refusal stands next to its field."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from domain.forms import FormContext, FormError, parse_form
from domain.rulesets import load_rule_set
from domain.stages import LocalityType, Role, Stage
from tests.faults.abuse_support import park
from tests.support import days_ago, form_for, running_stack
from tests.vocabulary import problems
from tests.web.test_pages import csrf, error_of
from web.form_refusals import UNKNOWN_VI, form_refusal_text

RULES = load_rule_set("qd06-2019")
CTX = FormContext(rule_set=RULES, locality_type=LocalityType.OTHER, posting_working_days=10)
NOW = datetime(2027, 11, 20, 3, 0, tzinfo=UTC)
DOCS = form_for(Stage.DOSSIER_SUBMISSION)["documents"]
DAYS = {  # the forms' days within the round's period and before NOW
    Stage.PUBLIC_POSTING: {"posted_from": "2027-10-06", "posted_to": "2027-10-27"},
    Stage.COUNCIL_ASSESSMENT: {"meeting_date": "2027-10-05"},
    Stage.DECISION: {"decision_date": "2027-11-15"},
    Stage.COMMENDATION: {"decision_date": "2027-11-18"},
}

BAD: list[tuple[Stage, dict[str, Any], dict[str, Any], str]] = [
    (Stage.PUBLIC_POSTING, {"posted_from": "2027-10-20", "posted_to": "2027-10-06"}, {}, "sớm hơn ngày bắt đầu"),
    (Stage.PUBLIC_POSTING, {"posted_from": "2027-10-06", "posted_to": "2027-10-08"}, {}, "quy trình yêu cầu 10 ngày"),
    (
        Stage.PUBLIC_POSTING,
        {"objections": [{"id": "k1", "text": "a"}, {"id": "k1", "text": "b"}]},
        {},
        "mã kiến nghị bị lặp lại",
    ),
    (Stage.COUNCIL_ASSESSMENT, {"objection_answers": []}, {"open": ("k1",)}, "kiến nghị k1 chưa được trả lời"),
    (Stage.COUNCIL_ASSESSMENT, {"objection_answers": {"k9": "x"}}, {}, "cần một danh sách"),
    (Stage.DOSSIER_SUBMISSION, {"documents": DOCS[:2]}, {}, "Giải trình nguồn số liệu, Biên bản họp Hội đồng"),
    (Stage.DOSSIER_SUBMISSION, {"documents": [*DOCS, DOCS[0]]}, {}, "hai lần"),
    (Stage.APPRAISAL, {"outcome": "return", "missing": []}, {}, "nội dung cần bổ sung"),
    (Stage.APPRAISAL, {"outcome": "return", "missing": ["x"]}, {"returns": 2}, "đã bị trả 2 lần"),
    (Stage.APPRAISAL, {"outcome": "refuse", "findings": ""}, {}, "nêu lý do bằng văn bản"),
    (Stage.DECISION, {"recognised": True}, {}, "chưa đạt mức công nhận"),
    (Stage.DECISION, {"recognised": False, "reasons": []}, {}, "không công nhận phải nêu lý do"),
    (Stage.COMMENDATION, {"awarded": True, "decision_number": ""}, {}, "số quyết định"),
    (Stage.COMMENDATION, {"awarded": True, "decision_date": None}, {}, "ngày quyết định"),
    (Stage.COMMENDATION, {"awarded": False, "reasons": []}, {}, "không khen thưởng phải nêu lý do"),
    (Stage.SELF_ASSESSMENT, {"sources": {"99": "sổ"}}, {}, None),  # a criterion the rule set lacks: the score's check
    (Stage.COUNCIL_ASSESSMENT, {"meeting_date": "2026-01-05"}, {}, "trước khi kỳ đánh giá bắt đầu (01/11/2026)"),
    (Stage.COUNCIL_ASSESSMENT, {"meeting_date": "2027-12-25"}, {}, "ở tương lai"),
    (Stage.COUNCIL_ASSESSMENT, {"meeting_date": "hôm qua"}, {}, "ngày không hợp lệ"),
    (Stage.REGISTRATION, {"registered": "có lẽ"}, {}, "chọn có hoặc không"),
    (Stage.DECISION, {"decision_number": ""}, {}, "chưa nhập"),
]


def _refusal(stage: Stage, changes: dict[str, Any], case: dict[str, Any]) -> FormError:
    ctx = CTX.model_copy(
        update={
            "open_objection_ids": case.get("open", ()),
            "returns_so_far": case.get("returns", 0),
            "council_scores": {c.number: 0 for c in RULES.criteria},
        }
    )
    payload = form_for(stage) | DAYS.get(stage, {}) | changes
    with pytest.raises(FormError) as caught:
        parse_form(stage, payload, ctx, now=NOW, period_start=date(2026, 11, 1))
    return caught.value


@pytest.mark.parametrize(("stage", "changes", "case", "says"), BAD)
def test_every_reason_the_domain_gives_reads_in_vietnamese(
    stage: Stage, changes: dict[str, Any], case: dict[str, Any], says: str | None
) -> None:
    refused = _refusal(stage, changes, case)
    vi = form_refusal_text(refused.reason, "vi")
    if says is None:  # a score's refusal: worded by web/refusals.py from the typed scores
        assert refused.field.startswith(("scores", "sources")), refused
        return
    assert says in vi and vi != UNKNOWN_VI, (refused.reason, vi)
    assert problems(vi, "vi") == [], vi
    assert form_refusal_text(refused.reason, "en") == refused.reason


def test_a_reason_not_known_reads_as_the_catch_all_never_in_english() -> None:
    assert form_refusal_text("something new went wrong", "vi") == UNKNOWN_VI


async def test_the_task_page_shows_the_refusal_next_to_its_field_in_vietnamese(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with running_stack(temporal_env.client, database_url, sessions) as stack:
        parked = await park(stack, Stage.PUBLIC_POSTING)
        async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=30) as web:
            signed = await web.post("/web/signin", data={"token": parked.tokens[Role.COMMUNE_OFFICER]})
            assert signed.status_code == 303
            page = await web.get(f"/web/tasks/{parked.task_id}")
            form = {"csrf": csrf(page.text), "posted_from": days_ago(10), "posted_to": days_ago(20), "place": "UBND"}
            refused = await web.post(f"/web/tasks/{parked.task_id}", data=form)
            assert refused.status_code == 422, refused.text[:500]
            assert error_of(refused.text, "posted_to") == "ngày kết thúc niêm yết sớm hơn ngày bắt đầu"
            english = await web.post(f"/web/tasks/{parked.task_id}?lang=en", data=form)
            assert error_of(english.text, "posted_to") == "ends before posted_from"
