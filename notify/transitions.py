"""Which events a recorded case transition announces. Pure: the transition in, the outbox events out.

- a new task → `task_assigned` to the holders of its role over the unit (`dossier_returned` when the appraising
  office sent the dossier back: the returned dossier *is* the new task, announced once);
- a decision (recognised or not) or a reasoned refusal at appraisal → `decision_made` to the commune officer and
  the commune chairman of the unit;
- the commendation check finding a level due → `commendation_due` to the authority of that level and the commune
  chairman.

Dedup keys are `case:<case id>:<seq>:<kind>`: a transition is recorded once per (case, seq), so is its news.
"""

from __future__ import annotations

from typing import Any

from activities.inputs import RecordTransitionInput
from domain.stages import Role, Stage
from notify.events import NotificationKind, OutboxEvent, Recipients


def _key(inp: RecordTransitionInput, kind: NotificationKind) -> str:
    return f"case:{inp.case.case_id}:{inp.transition.seq}:{kind.value}"


def events_for_transition(inp: RecordTransitionInput) -> list[OutboxEvent]:
    case, tr = inp.case, inp.transition
    common: dict[str, Any] = {
        "case_id": case.case_id,
        "unit_code": case.unit_code,
        "round_id": case.round_id,
    }
    base = {
        "occurred_at": tr.occurred_at,
        "province_code": case.province_code,
        "unit_code": case.unit_code,
        "case_id": case.case_id,
    }
    events: list[OutboxEvent] = []
    if inp.new_task is not None:
        task = inp.new_task
        returned = tr.from_stage == Stage.APPRAISAL and tr.to_stage == Stage.DOSSIER_SUBMISSION
        kind = NotificationKind.DOSSIER_RETURNED if returned else NotificationKind.TASK_ASSIGNED
        events.append(
            OutboxEvent(
                kind=kind,
                dedup_key=_key(inp, kind),
                recipients=Recipients(roles=(task.role,), province_code=case.province_code, unit_code=case.unit_code),
                task_id=task.task_id,
                link_path=f"/v1/tasks/{task.task_id}",
                context={
                    **common,
                    "task_id": task.task_id,
                    "stage": task.stage.value,
                    "role": task.role.value,
                    "due_at": task.due_at.isoformat() if task.due_at else None,
                    "reason": tr.reason,
                },
                **base,
            )
        )
    decided = tr.outcome is not None and tr.from_stage in (Stage.APPRAISAL, Stage.DECISION)
    if decided:
        assert tr.outcome is not None
        kind = NotificationKind.DECISION_MADE
        events.append(
            OutboxEvent(
                kind=kind,
                dedup_key=_key(inp, kind),
                recipients=Recipients(
                    roles=(Role.COMMUNE_OFFICER, Role.COMMUNE_CHAIRMAN),
                    province_code=case.province_code,
                    unit_code=case.unit_code,
                ),
                link_path=f"/v1/cases/{case.case_id}",
                context={
                    **common,
                    "outcome": tr.outcome.value,
                    "reason": tr.reason,
                    "decision_number": tr.details.get("decision_number"),
                    "decision_date": tr.details.get("decision_date"),
                },
                **base,
            )
        )
    commendation = tr.details.get("commendation") if tr.action == "commendation_checked" else None
    if isinstance(commendation, dict) and commendation.get("authority_role"):
        kind = NotificationKind.COMMENDATION_DUE
        events.append(
            OutboxEvent(
                kind=kind,
                dedup_key=_key(inp, kind),
                recipients=Recipients(
                    roles=(Role(commendation["authority_role"]), Role.COMMUNE_CHAIRMAN),
                    province_code=case.province_code,
                    unit_code=case.unit_code,
                ),
                link_path=f"/v1/cases/{case.case_id}",
                context={
                    **common,
                    "consecutive": commendation.get("consecutive"),
                    "title_vi": commendation.get("title_vi"),
                    "title_en": commendation.get("title_en"),
                },
                **base,
            )
        )
    return events
