"""Which events a recorded case transition announces. Pure: the transition in, the outbox events out.

- a new task → `task_assigned` to the holders of its role over the unit (naming the role it came from when a change
  of authority moved it); `dossier_returned` when the appraising
  office sent the dossier back, `commendation_due` when the commendation check opened a task for the authority
  (the new task *is* the news, announced once);
- a reminder (`task_reminded`, or an administrator's `task_nudged`) → `task_reminder` to the task's assignee, else
  the holders of the stage's role;
- an escalation → `task_escalated` to the holders of the rung's role;
- a reassignment → `task_assigned` to the named official;
- an outcome (a decision, a refusal at appraisal, a deadline closing the case, a withdrawal, the authority's
  commendation decision) → `decision_made` to the commune officer and the commune chairman, its `result` naming
  what happened (one mail template per result, see RESULTS); not the unit's own choice not to register;
- the older commendation check that carried its finding in `details` → `commendation_due`.

Links are the web pages a person opens (they send to sign-in and back): /web/tasks/<task id> for a task,
/web/cases/<case id> for a case — never the JSON API. A context's `reason` is only ever text a person typed (an
administrator's note, a decision's reasons); what the system decided is carried as codes and numbers, worded by the
templates from the glossary.

Dedup keys are `case:<case id>:<seq>:<kind>`: a transition is recorded once per (case, seq), so is its news.
"""

from __future__ import annotations

from typing import Any

from contracts import RecordTransitionInput
from domain.procedure import load_profile
from domain.stages import Outcome, Role, Stage
from notify.events import NotificationKind, OutboxEvent, Recipients

REMINDERS = ("task_reminded", "task_nudged")
NOT_NEWS_OUTCOMES = ("commendation_checked", "registration_completed")  # the finding itself; the unit's own choice
TYPED_REASONS = ("task_nudged", "task_reassigned", "case_withdrawn")  # an administrator's words, shown as typed
BLOCKING_REASONS = ("missing_criterion", "zero_criterion", "below_threshold")
# What a `decision_made` can say happened: the template decision_made_<result>.j2 of each.
RESULTS = (
    "recognised",
    "not_recognised",
    "refused_at_appraisal",
    "not_registered",
    "not_submitted",
    "withdrawn",
    "commendation_awarded",
    "commendation_not_awarded",
)


def task_page(task_id: str) -> str:
    return f"/web/tasks/{task_id}"


def case_page(case_id: str) -> str:
    return f"/web/cases/{case_id}"


def _key(inp: RecordTransitionInput, kind: NotificationKind) -> str:
    return f"case:{inp.case.case_id}:{inp.transition.seq}:{kind.value}"


def _new_task_kind(inp: RecordTransitionInput) -> NotificationKind:
    tr = inp.transition
    if tr.from_stage == Stage.APPRAISAL and tr.to_stage == Stage.DOSSIER_SUBMISSION:
        return NotificationKind.DOSSIER_RETURNED
    if tr.action == "commendation_due":
        return NotificationKind.COMMENDATION_DUE
    return NotificationKind.TASK_ASSIGNED


def events_for_transition(inp: RecordTransitionInput) -> list[OutboxEvent]:
    found = (
        _new_task(inp),
        _reminder(inp),
        _escalation(inp),
        _reassignment(inp),
        _decision(inp),
        _commendation_found(inp),
    )
    return [e for e in found if e is not None]


def _over_unit(inp: RecordTransitionInput, *roles: Role) -> Recipients:
    return Recipients(roles=roles, province_code=inp.case.province_code, unit_code=inp.case.unit_code)


def _event(
    inp: RecordTransitionInput,
    kind: NotificationKind,
    recipients: Recipients,
    link: str,
    task_id: str | None = None,
    **context: Any,
) -> OutboxEvent:
    case = inp.case
    return OutboxEvent(
        kind=kind,
        dedup_key=_key(inp, kind),
        recipients=recipients,
        task_id=task_id,
        link_path=link,
        context={"case_id": case.case_id, "unit_code": case.unit_code, "round_id": case.round_id, "task_id": task_id}
        | context,
        occurred_at=inp.transition.occurred_at,
        province_code=case.province_code,
        unit_code=case.unit_code,
        case_id=case.case_id,
    )


def _texts(value: Any) -> list[str]:
    """The non-blank lines a person typed (one text or a list of them)."""
    items = value if isinstance(value, list) else [value]
    return [str(v).strip() for v in items if v is not None and str(v).strip()]


def _new_task(inp: RecordTransitionInput) -> OutboxEvent | None:
    task, tr = inp.new_task, inp.transition
    if task is None:
        return None
    kind = _new_task_kind(inp)
    commendation = tr.details.get("commendation") if kind == NotificationKind.COMMENDATION_DUE else None
    found = commendation if isinstance(commendation, dict) else {}
    streak = tr.details.get("streak") if kind == NotificationKind.COMMENDATION_DUE else None  # glossary/streak.py
    handover = tr.action == "authority_changed"  # the task moved to the successor's role: say from whom, since when
    objections = tr.details.get("objections") if tr.from_stage == Stage.PUBLIC_POSTING else None
    returned = kind == NotificationKind.DOSSIER_RETURNED  # what to complete, as the appraising office wrote it
    findings = " ".join(_texts(tr.details.get("findings"))) if returned else ""
    return _event(
        inp,
        kind,
        _over_unit(inp, task.role),
        task_page(task.task_id),
        task_id=task.task_id,
        stage=task.stage.value,
        role=task.role.value,
        due_at=task.due_at.isoformat() if task.due_at else None,
        reason=None,
        handed_over_from=tr.details.get("from_role") if handover else None,
        handed_over_at=tr.occurred_at.isoformat() if handover else None,
        objections=len(objections) if isinstance(objections, list) and objections else None,
        missing=_texts(tr.details.get("missing")) if returned else [],
        findings=findings or None,
        consecutive=found.get("consecutive"),
        title_vi=found.get("title_vi"),
        title_en=found.get("title_en"),
        **({"streak": streak} if isinstance(streak, dict) else {}),
    )


def _reminder(inp: RecordTransitionInput) -> OutboxEvent | None:
    case, tr, update = inp.case, inp.transition, inp.task_update
    if tr.action not in REMINDERS:
        return None
    task_id = update.task_id if update else str(tr.details.get("task_id") or "") or None
    role = load_profile(case.profile_id).stage(case.stage).role
    recipients = (
        Recipients(official_ids=(update.assignee_id,)) if update and update.assignee_id else _over_unit(inp, role)
    )
    return _event(
        inp,
        NotificationKind.TASK_REMINDER,
        recipients,
        task_page(task_id) if task_id else case_page(case.case_id),
        task_id=task_id,
        stage=case.stage.value,
        role=role.value,
        due_at=update.due_at.isoformat() if update else tr.details.get("due_at"),
        reason=tr.reason if tr.action in TYPED_REASONS else None,
    )


def _escalation(inp: RecordTransitionInput) -> OutboxEvent | None:
    tr, update = inp.transition, inp.task_update
    if tr.action != "task_escalated" or update is None or update.escalated_to is None:
        return None
    return _event(
        inp,
        NotificationKind.TASK_ESCALATED,
        _over_unit(inp, update.escalated_to),
        task_page(update.task_id),
        task_id=update.task_id,
        stage=inp.case.stage.value,
        role=update.escalated_to.value,
        due_at=tr.details.get("due_at"),
        level=update.escalation_level,
        reason=None,
    )


def _reassignment(inp: RecordTransitionInput) -> OutboxEvent | None:
    case, tr, update = inp.case, inp.transition, inp.task_update
    if tr.action != "task_reassigned" or update is None or not update.assignee_id:
        return None
    return _event(
        inp,
        NotificationKind.TASK_ASSIGNED,
        Recipients(official_ids=(update.assignee_id,)),
        task_page(update.task_id),
        task_id=update.task_id,
        stage=case.stage.value,
        role=load_profile(case.profile_id).stage(case.stage).role.value,
        due_at=update.due_at.isoformat(),
        reason=tr.reason,
    )


def result_of(inp: RecordTransitionInput) -> str | None:
    """What the outcome transition says happened (one of RESULTS), None when it is no news."""
    tr = inp.transition
    if tr.outcome is None or tr.action in NOT_NEWS_OUTCOMES:
        return None
    if tr.action == "commendation_completed":
        return "commendation_awarded" if tr.details.get("awarded") else "commendation_not_awarded"
    if tr.outcome == Outcome.NOT_RECOGNISED and tr.from_stage == Stage.APPRAISAL:
        return "refused_at_appraisal"
    return tr.outcome.value


def _verdict_reasons(inp: RecordTransitionInput) -> list[dict[str, Any]]:
    """The blocking reasons of the case's verdict, as codes with their numbers (worded by the glossary)."""
    verdict = inp.case.verdict or {}
    reasons = verdict.get("reasons") or []
    numbers = {"total": verdict.get("total"), "threshold": verdict.get("threshold")}
    return [
        {"code": r.get("code"), "criterion": r.get("criterion")} | numbers
        for r in reasons
        if isinstance(r, dict) and r.get("code") in BLOCKING_REASONS
    ]


def _typed_notes(inp: RecordTransitionInput, result: str) -> list[str]:
    """What a person wrote about the outcome: a decision's reasons, the appraisal's findings, why it was withdrawn."""
    tr = inp.transition
    if result == "refused_at_appraisal":
        return _texts(tr.details.get("findings") or tr.reason)
    if result == "withdrawn":
        return _texts(tr.reason)
    if result in ("not_recognised", "commendation_not_awarded"):
        return _texts(tr.details.get("reasons"))
    return []


def _commendation_level(inp: RecordTransitionInput) -> dict[str, Any]:
    """The commendation a commendation decision was about: as the transition names it, else the profile's only
    level whose authority decided it (the streak itself is not known here)."""
    named = inp.transition.details.get("commendation")
    if isinstance(named, dict):
        return named
    levels = [
        level
        for level in load_profile(inp.case.profile_id).commendations
        if inp.actor_role is not None and level.authority_role == inp.actor_role
    ]
    return {"title_vi": levels[0].title_vi, "title_en": levels[0].title_en} if len(levels) == 1 else {}


def _decision(inp: RecordTransitionInput) -> OutboxEvent | None:
    tr = inp.transition
    result = result_of(inp)
    if result is None or tr.outcome is None:
        return None
    level = _commendation_level(inp) if result.startswith("commendation_") else {}
    notes = _typed_notes(inp, result)
    return _event(
        inp,
        NotificationKind.DECISION_MADE,
        _over_unit(inp, Role.COMMUNE_OFFICER, Role.COMMUNE_CHAIRMAN),
        case_page(inp.case.case_id),
        outcome=tr.outcome.value,
        result=result,
        notes=notes,
        reason="; ".join(notes) or None,
        verdict_reasons=_verdict_reasons(inp) if result == "not_recognised" else [],
        decision_number=tr.details.get("decision_number") or None,
        decision_date=tr.details.get("decision_date") or None,
        closed_stage=tr.from_stage.value if tr.from_stage else None,
        due_at=tr.details.get("due_at") if tr.action == "deadline_closed" else None,
        consecutive=level.get("consecutive"),
        title_vi=level.get("title_vi"),
        title_en=level.get("title_en"),
    )


def _commendation_found(inp: RecordTransitionInput) -> OutboxEvent | None:
    """The older commendation check, which carried its finding in `details` instead of opening a task."""
    tr = inp.transition
    old_style = tr.details.get("commendation") if tr.action == "commendation_checked" else None
    if not isinstance(old_style, dict) or not old_style.get("authority_role"):
        return None
    return _event(
        inp,
        NotificationKind.COMMENDATION_DUE,
        _over_unit(inp, Role(old_style["authority_role"]), Role.COMMUNE_CHAIRMAN),
        case_page(inp.case.case_id),
        consecutive=old_style.get("consecutive"),
        title_vi=old_style.get("title_vi"),
        title_en=old_style.get("title_en"),
    )
