"""Which events a recorded case transition announces. Pure: the transition in, the outbox events out.

- a new task → `task_assigned` to the holders of its role over the unit; `dossier_returned` when the appraising
  office sent the dossier back, `commendation_due` when the commendation check opened a task for the authority
  (the new task *is* the news, announced once);
- a reminder (`task_reminded`, or an administrator's `task_nudged`) → `task_reminder` to the task's assignee, else
  the holders of the stage's role;
- an escalation → `task_escalated` to the holders of the rung's role;
- a reassignment → `task_assigned` to the named official;
- an outcome (a decision, a refusal at appraisal, a deadline closing the case, a withdrawal) → `decision_made` to
  the commune officer and the commune chairman; not the unit's own choice not to register;
- the older commendation check that carried its finding in `details` → `commendation_due`.

Dedup keys are `case:<case id>:<seq>:<kind>`: a transition is recorded once per (case, seq), so is its news.
"""

from __future__ import annotations

from typing import Any

from activities.inputs import RecordTransitionInput
from domain.procedure import load_profile
from domain.stages import Role, Stage
from notify.events import NotificationKind, OutboxEvent, Recipients

REMINDERS = ("task_reminded", "task_nudged")
NOT_NEWS_OUTCOMES = ("commendation_checked", "registration_completed")  # the finding itself; the unit's own choice


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
    case, tr = inp.case, inp.transition
    common: dict[str, Any] = {"case_id": case.case_id, "unit_code": case.unit_code, "round_id": case.round_id}
    base: dict[str, Any] = {
        "occurred_at": tr.occurred_at,
        "province_code": case.province_code,
        "unit_code": case.unit_code,
        "case_id": case.case_id,
    }

    def over_unit(*roles: Role) -> Recipients:
        return Recipients(roles=roles, province_code=case.province_code, unit_code=case.unit_code)

    def event(
        kind: NotificationKind, recipients: Recipients, link: str, task_id: str | None = None, **context: Any
    ) -> OutboxEvent:
        return OutboxEvent(
            kind=kind,
            dedup_key=_key(inp, kind),
            recipients=recipients,
            task_id=task_id,
            link_path=link,
            context={**common, "task_id": task_id, **context},
            **base,
        )

    events: list[OutboxEvent] = []
    if inp.new_task is not None:
        task = inp.new_task
        kind = _new_task_kind(inp)
        commendation = tr.details.get("commendation") if kind == NotificationKind.COMMENDATION_DUE else None
        found = commendation if isinstance(commendation, dict) else {}
        events.append(
            event(
                kind,
                over_unit(task.role),
                f"/v1/tasks/{task.task_id}",
                task_id=task.task_id,
                stage=task.stage.value,
                role=task.role.value,
                due_at=task.due_at.isoformat() if task.due_at else None,
                reason=tr.reason,
                consecutive=found.get("consecutive"),
                title_vi=found.get("title_vi"),
                title_en=found.get("title_en"),
            )
        )
    update = inp.task_update
    if tr.action in REMINDERS:
        task_id = update.task_id if update else str(tr.details.get("task_id") or "") or None
        role = load_profile(case.profile_id).stage(case.stage).role
        recipients = (
            Recipients(official_ids=(update.assignee_id,)) if update and update.assignee_id else over_unit(role)
        )
        due = update.due_at.isoformat() if update else tr.details.get("due_at")
        events.append(
            event(
                NotificationKind.TASK_REMINDER,
                recipients,
                f"/v1/tasks/{task_id}" if task_id else f"/v1/cases/{case.case_id}",
                task_id=task_id,
                stage=case.stage.value,
                role=role.value,
                due_at=due,
                reason=tr.reason,
            )
        )
    if tr.action == "task_escalated" and update is not None and update.escalated_to is not None:
        events.append(
            event(
                NotificationKind.TASK_ESCALATED,
                over_unit(update.escalated_to),
                f"/v1/tasks/{update.task_id}",
                task_id=update.task_id,
                stage=case.stage.value,
                role=update.escalated_to.value,
                due_at=tr.details.get("due_at"),
                level=update.escalation_level,
                reason=tr.reason,
            )
        )
    if tr.action == "task_reassigned" and update is not None and update.assignee_id:
        role = load_profile(case.profile_id).stage(case.stage).role
        events.append(
            event(
                NotificationKind.TASK_ASSIGNED,
                Recipients(official_ids=(update.assignee_id,)),
                f"/v1/tasks/{update.task_id}",
                task_id=update.task_id,
                stage=case.stage.value,
                role=role.value,
                due_at=update.due_at.isoformat(),
                reason=tr.reason,
            )
        )
    if tr.outcome is not None and tr.action not in NOT_NEWS_OUTCOMES:
        events.append(
            event(
                NotificationKind.DECISION_MADE,
                over_unit(Role.COMMUNE_OFFICER, Role.COMMUNE_CHAIRMAN),
                f"/v1/cases/{case.case_id}",
                outcome=tr.outcome.value,
                reason=tr.reason,
                decision_number=tr.details.get("decision_number"),
                decision_date=tr.details.get("decision_date"),
            )
        )
    old_style = tr.details.get("commendation") if tr.action == "commendation_checked" else None
    if isinstance(old_style, dict) and old_style.get("authority_role"):
        events.append(
            event(
                NotificationKind.COMMENDATION_DUE,
                over_unit(Role(old_style["authority_role"]), Role.COMMUNE_CHAIRMAN),
                f"/v1/cases/{case.case_id}",
                consecutive=old_style.get("consecutive"),
                title_vi=old_style.get("title_vi"),
                title_en=old_style.get("title_en"),
            )
        )
    return events
