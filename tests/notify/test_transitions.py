"""What a recorded case transition announces (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from contracts import NewTask, RecordTransitionInput, TaskUpdate
from domain.case import Transition
from domain.stages import Outcome, Role, Stage
from notify.events import NotificationKind
from notify.templates import render
from notify.transitions import events_for_transition
from tests.builders import snapshot

T0 = datetime(2027, 10, 1, 2, 0, tzinfo=UTC)
CASE = "qd06-2019:2027-11953"


def record(
    seq: int, frm: Stage | None, to: Stage, *, task: tuple[Stage, Role] | None = None, **kw: Any
) -> RecordTransitionInput:
    outcome = kw.pop("outcome", None)
    update = kw.pop("task_update", None)
    return RecordTransitionInput(
        case=snapshot("11953", to, seq, status="closed" if to == Stage.CLOSED else "open", outcome=outcome),
        transition=Transition(
            seq=seq,
            action=kw.pop("action", f"{frm.value if frm else 'case'}_completed"),
            from_stage=frm,
            to_stage=to,
            occurred_at=T0,
            outcome=outcome,
            **kw,
        ),
        workflow_id=CASE,
        run_id="run-1",
        task_update=update,
        new_task=None
        if task is None
        else NewTask(task_id=f"{CASE}-t{seq:02d}", stage=task[0], role=task[1], due_at=T0 + timedelta(days=10)),
    )


def test_a_new_task_is_announced_to_its_role_over_the_unit() -> None:
    [event] = events_for_transition(
        record(1, None, Stage.REGISTRATION, task=(Stage.REGISTRATION, Role.COMMUNE_OFFICER), action="case_opened")
    )
    assert event.kind == NotificationKind.TASK_ASSIGNED
    assert event.dedup_key == f"case:{CASE}:1:task_assigned"
    assert (event.recipients.roles, event.recipients.unit_code) == ((Role.COMMUNE_OFFICER,), "11953")
    assert event.context["stage"] == "registration"
    assert event.link_path == f"/web/tasks/{CASE}-t01"  # the page a person opens, not the JSON API
    assert event.occurred_at == T0


def test_a_returned_dossier_is_announced_once_as_returned() -> None:
    events = events_for_transition(
        record(
            8,
            Stage.APPRAISAL,
            Stage.DOSSIER_SUBMISSION,
            task=(Stage.DOSSIER_SUBMISSION, Role.COMMUNE_OFFICER),
            reason="returned for completion: council minutes",
            details={"outcome": "return", "findings": "", "missing": ["council minutes"]},
        )
    )
    assert [e.kind for e in events] == [NotificationKind.DOSSIER_RETURNED]
    # what to complete as the appraiser typed it; the machine's English reason is not a person's words
    assert events[0].context["missing"] == ["council minutes"] and events[0].context["reason"] is None


def test_a_decision_is_announced_to_the_commune() -> None:
    events = events_for_transition(
        record(
            8,
            Stage.DECISION,
            Stage.COMMENDATION,
            outcome=Outcome.RECOGNISED,
            details={"decision_number": "QĐ-123/UBND", "recognised": True},
        )
    )
    assert [e.kind for e in events] == [NotificationKind.DECISION_MADE]
    assert set(events[0].recipients.roles) == {Role.COMMUNE_OFFICER, Role.COMMUNE_CHAIRMAN}
    assert events[0].context["decision_number"] == "QĐ-123/UBND"
    assert events[0].context["result"] == "recognised" and events[0].link_path == f"/web/cases/{CASE}"


def test_a_refusal_at_appraisal_is_a_decision_a_declined_registration_is_not() -> None:
    refused = record(7, Stage.APPRAISAL, Stage.CLOSED, outcome=Outcome.NOT_RECOGNISED, reason="số liệu sai")
    [event] = events_for_transition(refused)
    assert event.kind == NotificationKind.DECISION_MADE
    assert (event.context["result"], event.context["notes"]) == ("refused_at_appraisal", ["số liệu sai"])
    declined = record(2, Stage.REGISTRATION, Stage.CLOSED, outcome=Outcome.NOT_REGISTERED)
    assert events_for_transition(declined) == []


def test_a_commendation_found_is_announced_to_its_authority() -> None:
    found = {"consecutive": 3, "authority_role": "provincial_chairman", "title_vi": "Bằng khen", "title_en": "Merit"}
    events = events_for_transition(
        record(
            9,
            Stage.COMMENDATION,
            Stage.CLOSED,
            action="commendation_checked",
            outcome=Outcome.RECOGNISED,
            details={"commendation": found},
        )
    )
    assert [e.kind for e in events] == [NotificationKind.COMMENDATION_DUE]
    assert Role.PROVINCIAL_CHAIRMAN in events[0].recipients.roles
    none_found = record(
        9, Stage.COMMENDATION, Stage.CLOSED, action="commendation_checked", details={"commendation": None}
    )
    assert events_for_transition(none_found) == []


def update(**kw: Any) -> TaskUpdate:
    values: dict[str, Any] = {
        "task_id": f"{CASE}-t04",
        "due_at": T0 + timedelta(days=5),
        "escalation_level": 0,
        "escalated_to": None,
        "assignee_id": None,
        "stuck": False,
    }
    return TaskUpdate(**(values | kw))


def test_a_reminder_goes_to_the_stage_role_or_to_the_assignee() -> None:
    [event] = events_for_transition(
        record(5, Stage.PUBLIC_POSTING, Stage.PUBLIC_POSTING, action="task_reminded", task_update=update())
    )
    assert event.kind == NotificationKind.TASK_REMINDER
    assert event.recipients.roles == (Role.COMMUNE_OFFICER,) and event.task_id == f"{CASE}-t04"
    assert event.context["due_at"] == (T0 + timedelta(days=5)).isoformat()
    [given] = events_for_transition(
        record(
            5, Stage.PUBLIC_POSTING, Stage.PUBLIC_POSTING, action="task_reminded", task_update=update(assignee_id="o-1")
        )
    )
    assert given.recipients.official_ids == ("o-1",) and not given.recipients.roles


def test_an_administrators_nudge_is_a_reminder() -> None:
    nudge = record(
        5, Stage.APPRAISAL, Stage.APPRAISAL, action="task_nudged", details={"task_id": f"{CASE}-t06"}, reason="gấp"
    )
    [event] = events_for_transition(nudge)
    assert (event.kind, event.recipients.roles, event.task_id) == (
        NotificationKind.TASK_REMINDER,
        (Role.APPRAISER,),
        f"{CASE}-t06",
    )


def test_an_escalation_goes_to_the_rung_role() -> None:
    escalated = record(
        6,
        Stage.REGISTRATION,
        Stage.REGISTRATION,
        action="task_escalated",
        task_update=update(escalation_level=1, escalated_to=Role.COMMUNE_CHAIRMAN),
        details={"due_at": T0.isoformat(), "level": 1},
    )
    [event] = events_for_transition(escalated)
    assert event.kind == NotificationKind.TASK_ESCALATED
    assert event.recipients.roles == (Role.COMMUNE_CHAIRMAN,)
    assert event.context["level"] == 1


def test_a_reassigned_task_is_announced_to_the_official_it_was_given_to() -> None:
    [event] = events_for_transition(
        record(7, Stage.APPRAISAL, Stage.APPRAISAL, action="task_reassigned", task_update=update(assignee_id="o-9"))
    )
    assert (event.kind, event.recipients.official_ids) == (NotificationKind.TASK_ASSIGNED, ("o-9",))


def test_a_case_closed_by_its_deadline_or_withdrawn_is_news_for_the_commune() -> None:
    machine = "the ladder of dossier_submission ended without action: not_submitted"
    cases = (
        ("deadline_closed", Outcome.NOT_SUBMITTED, machine, []),
        ("case_withdrawn", Outcome.WITHDRAWN, "xã sáp nhập", ["xã sáp nhập"]),
    )
    for action, outcome, reason, notes in cases:
        [event] = events_for_transition(
            record(9, Stage.DOSSIER_SUBMISSION, Stage.CLOSED, action=action, outcome=outcome, reason=reason)
        )
        assert (event.kind, event.context["outcome"]) == (NotificationKind.DECISION_MADE, outcome.value)
        assert event.context["result"] == outcome.value and event.context["notes"] == notes
        assert event.context["closed_stage"] == "dossier_submission"


def test_a_commendation_decision_is_its_own_result_not_a_second_recognition() -> None:
    for awarded, result in ((True, "commendation_awarded"), (False, "commendation_not_awarded")):
        details = {
            "awarded": awarded,
            "decision_number": "KT-5" if awarded else "",
            "reasons": [] if awarded else ["x"],
        }
        done = record(11, Stage.COMMENDATION, Stage.CLOSED, outcome=Outcome.RECOGNISED, details=details).model_copy(
            update={"actor_role": Role.PROVINCIAL_CHAIRMAN}
        )
        [event] = events_for_transition(done)
        assert (event.kind, event.context["result"]) == (NotificationKind.DECISION_MADE, result)
        assert event.context["title_vi"] == "Bằng khen của Chủ tịch UBND cấp tỉnh"  # the only level of that role


def test_a_commendation_task_is_announced_as_commendation_due() -> None:
    found = {"consecutive": 3, "authority_role": "provincial_chairman", "title_vi": "Bằng khen", "title_en": "Merit"}
    [event] = events_for_transition(
        record(
            9,
            Stage.COMMENDATION,
            Stage.COMMENDATION,
            action="commendation_due",
            details={"commendation": found},
            task=(Stage.COMMENDATION, Role.PROVINCIAL_CHAIRMAN),
        )
    )
    assert event.kind == NotificationKind.COMMENDATION_DUE
    assert event.recipients.roles == (Role.PROVINCIAL_CHAIRMAN,)
    assert event.context["title_vi"] == "Bằng khen"


def test_a_change_of_authority_tells_the_new_holders_of_the_task_whose_role_it_came_from() -> None:
    inp = record(
        8,
        Stage.APPRAISAL,
        Stage.APPRAISAL,
        task=(Stage.APPRAISAL, Role.APPRAISER),
        action="authority_changed",
        reason="district → two-tier (2025-07-01)",
        cancelled_task_id=f"{CASE}-t06",
        details={"from_role": "district_appraiser", "to_role": "appraiser", "on": "2025-07-01"},
    )
    [event] = events_for_transition(inp)
    assert event.kind == NotificationKind.TASK_ASSIGNED and event.recipients.roles == (Role.APPRAISER,)
    assert event.context["handed_over_from"] == "district_appraiser" and event.context["reason"] is None
    mail = render(
        "task_assigned", event.context | {"recipient": "Phạm Thị Hoa", "unit_name": "Xã Tân Hưng", "link": None}
    )
    assert "được chuyển từ Phòng Lao động - Thương binh và Xã hội cấp huyện" in mail.body
    assert "district" not in mail.body and "01/10/2027" in mail.body  # the day it moved (T0), dd/mm/yyyy
    assert "two-tier" not in mail.body and "→" not in mail.body  # the machine's reason is not shown
