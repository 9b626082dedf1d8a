"""The journal as an event log: pure mapping from journal rows and the round's records to OCEL 2.0 objects and
events (and to XES's one-case view). No IO: the queries (audit/eventlog/queries.py) feed it rows, the writers
(ocel_json, ocel_sqlite, xes) serialise what it returns.

Identifiers: an object's id is its type and its id in the database, `case:<case id>`, `unit:<code>`,
`task:<task id>`, `official:<official id>`, `round:<round id>`, `rule_set:<rule set id>` (OCEL ids are one name
space across types); an event's id is `<case id>#<seq>`, the journal row's business key.

Activities: the journal action, with the stage where the action alone does not say which step it is
(`stage_opened:self_assessment`, `task_escalated:appraisal`); every event carries its Vietnamese label from the
glossary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import glossary

# Actions whose stage is what tells one step from another (the completions name their stage already).
STAGED_ACTIONS = frozenset(
    {
        "stage_opened",
        "task_reminded",
        "task_escalated",
        "task_stuck",
        "task_nudged",
        "due_extended",
        "task_reassigned",
        "case_held",
        "case_released",
        "case_withdrawn",
        "deadline_closed",
    }
)
COMPLETED = "_completed"
# XES lifecycle transitions (IEEE 1849 standard lifecycle model) where one means something; none for the others.
LIFECYCLE = {
    "case_opened": "schedule",
    "stage_opened": "schedule",
    "commendation_due": "schedule",
    "task_reassigned": "reassign",
    "case_held": "suspend",
    "case_released": "resume",
    "case_withdrawn": "pi_abort",
    "deadline_closed": "pi_abort",
}

Scalar = str | int | float | bool | datetime | None
# Attribute types as OCEL 2.0 names them.
OcelType = str  # "string" | "integer" | "float" | "boolean" | "time"

EVENT_ATTRIBUTES: tuple[tuple[str, OcelType], ...] = (
    ("label", "string"),
    ("seq", "integer"),
    ("from_stage", "string"),
    ("to_stage", "string"),
    ("actor_role", "string"),
)
OBJECT_TYPES: dict[str, tuple[tuple[str, OcelType], ...]] = {
    "case": (
        ("province_code", "string"),
        ("locality_type", "string"),
        ("profile_id", "string"),
        ("status", "string"),
        ("outcome", "string"),
    ),
    "unit": (("name", "string"), ("division_type", "string"), ("province_code", "string"), ("locality_type", "string")),
    "task": (
        ("stage", "string"),
        ("role", "string"),
        ("status", "string"),
        ("created_at", "time"),
        ("due_at", "time"),
        ("completed_at", "time"),
        ("escalation_level", "integer"),
    ),
    "official": (),
    "round": (("year", "integer"), ("period_start", "string"), ("period_end", "string"), ("profile_id", "string")),
    "rule_set": (("label", "string"),),
}
OFFICIAL_NAME: tuple[str, OcelType] = ("full_name", "string")


def object_types(*, with_names: bool) -> dict[str, tuple[tuple[str, OcelType], ...]]:
    """Each object type with its attributes; an official's full name only when asked for."""
    return OBJECT_TYPES | ({"official": (OFFICIAL_NAME,)} if with_names else {})


@dataclass(frozen=True, slots=True)
class Item:
    """An OCEL object or event, neutral to the file format: typed attributes and qualified links to objects."""

    id: str
    type: str
    attributes: dict[str, Scalar]
    links: list[tuple[str, str]] = field(default_factory=list)  # (object id, qualifier)
    time: datetime | None = None  # events only


@dataclass(frozen=True, slots=True)
class JournalRow:
    """One journal row as the export reads it: the row's own columns and the tasks it touched."""

    case_id: str
    seq: int
    action: str
    actor_id: str | None
    actor_role: str | None
    unit_code: str
    from_stage: str | None
    to_stage: str
    rule_set_id: str
    round_id: str
    occurred_at: datetime
    task_id: str | None = None  # the task the row completed or changed, when it is in the tasks table
    opened_task_id: str | None = None  # the task it opened


def oid(kind: str, key: str) -> str:
    return f"{kind}:{key}"


def event_id(case_id: str, seq: int) -> str:
    return f"{case_id}#{seq}"


def activity(action: str, from_stage: str | None, to_stage: str | None) -> str:
    """The activity of a journal row: its action, and its stage when the action alone does not name the step."""
    if action in STAGED_ACTIONS:
        stage = from_stage or to_stage
        return f"{action}:{stage}" if stage else action
    return action


def activity_label(name: str, lang: str = "vi") -> str:
    """The glossary's words for an activity, e.g. "Mở bước Tự đánh giá" for `stage_opened:self_assessment`."""
    action, _, stage = name.partition(":")
    stage_done = action.removesuffix(COMPLETED)
    if action.endswith(COMPLETED) and glossary.known("stage", stage_done):
        return glossary.term("action", "completed", lang, stage=glossary.term("stage", stage_done, lang))
    if action == "stage_opened":
        return glossary.term("action", action, lang, stage=glossary.term("stage", stage, lang))
    label = glossary.term("action", action, lang)
    return f"{label} ({glossary.term('stage', stage, lang)})" if stage else label


def lifecycle(action: str) -> str | None:
    """The XES lifecycle transition of an action, where the standard model has one."""
    if action.endswith(COMPLETED):
        return "complete"
    return LIFECYCLE.get(action)


def timestamp(when: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a Z, as OCEL 2.0 JSON and XES write a time."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.astimezone(UTC).microsecond // 1000:03d}Z"


def event(row: JournalRow) -> Item:
    """A journal row as an OCEL event, linked to its case, unit, round, rule set, actor and tasks."""
    name = activity(row.action, row.from_stage, row.to_stage)
    links = [
        (oid("case", row.case_id), "subject"),
        (oid("unit", row.unit_code), "unit"),
        (oid("round", row.round_id), "round"),
        (oid("rule_set", row.rule_set_id), "rule set"),
    ]
    if row.actor_id:
        links.append((oid("official", row.actor_id), "actor"))
    if row.task_id:
        links.append((oid("task", row.task_id), "task"))
    if row.opened_task_id and row.opened_task_id != row.task_id:
        links.append((oid("task", row.opened_task_id), "opened task"))
    attributes: dict[str, Scalar] = {
        "label": activity_label(name),
        "seq": row.seq,
        "from_stage": row.from_stage,
        "to_stage": row.to_stage,
        "actor_role": row.actor_role,
    }
    return Item(event_id(row.case_id, row.seq), name, attributes, links, row.occurred_at)


def case_object(values: dict[str, Any]) -> Item:
    """A case (its row in `cases`), linked to its unit, round and rule set."""
    attributes = {name: values.get(name) for name, _ in OBJECT_TYPES["case"]}
    links = [
        (oid("unit", values["unit_code"]), "unit"),
        (oid("round", values["round_id"]), "round"),
        (oid("rule_set", values["rule_set_id"]), "rule set"),
    ]
    return Item(oid("case", values["id"]), "case", attributes, links)


def unit_object(values: dict[str, Any]) -> Item:
    return Item(oid("unit", values["code"]), "unit", {name: values.get(name) for name, _ in OBJECT_TYPES["unit"]})


def task_object(values: dict[str, Any]) -> Item:
    """A task, linked to its case and to the official who completed it."""
    attributes = {name: values.get(name) for name, _ in OBJECT_TYPES["task"]}
    links = [(oid("case", values["case_id"]), "case")]
    if values.get("completed_by"):
        links.append((oid("official", values["completed_by"]), "completed by"))
    return Item(oid("task", values["id"]), "task", attributes, links)


def official_object(official_id: str, full_name: str | None, *, with_names: bool) -> Item:
    """An official: the id only, unless names were asked for."""
    attributes: dict[str, Scalar] = {"full_name": full_name} if with_names else {}
    return Item(oid("official", official_id), "official", attributes)


def round_object(found: Any) -> Item:
    """A round (anything with its row's attributes), linked to its rule set."""
    attributes: dict[str, Scalar] = {
        "year": found.year,
        "period_start": found.period_start.isoformat(),
        "period_end": found.period_end.isoformat(),
        "profile_id": found.profile_id,
    }
    return Item(oid("round", found.id), "round", attributes, [(oid("rule_set", found.rule_set_id), "rule set")])


def rule_set_object(rule_set_id: str) -> Item:
    return Item(oid("rule_set", rule_set_id), "rule_set", {"label": glossary.term("rule_set", rule_set_id)})


def xes_trace(row: JournalRow, case: dict[str, Any]) -> dict[str, Scalar]:
    """A case's XES trace attributes (from its first journal row and its columns): its id as the trace's name,
    where it is, how it ended."""
    return {
        "concept:name": row.case_id,
        "unit_code": row.unit_code,
        "province_code": case["province_code"],
        "locality_type": case["locality_type"],
        "outcome": case.get("outcome"),
    }


def xes_event(row: JournalRow) -> dict[str, Scalar]:
    """A journal row as an XES event: activity, time, the official (id) and their role, lifecycle, label, seq."""
    name = activity(row.action, row.from_stage, row.to_stage)
    return {
        "concept:name": name,
        "time:timestamp": row.occurred_at,
        "org:resource": row.actor_id,
        "org:role": row.actor_role,
        "lifecycle:transition": lifecycle(row.action),
        "label": activity_label(name),
        "seq": row.seq,
        "to_stage": row.to_stage,
    }
