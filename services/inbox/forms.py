"""The form a task expects, as an official's client needs it: the JSON schema of the stage's form, and for the scoring
stages the criteria of the case's pinned rule set with their maxima and the threshold that applies to the unit."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEventRow, CaseRow, CriterionScoreRow, TaskRow
from domain.forms import FORMS
from domain.procedure import load_profile
from domain.rulesets import load_rule_set
from domain.stages import Stage

SCORING = {Stage.SELF_ASSESSMENT, Stage.COUNCIL_ASSESSMENT}


class BandOut(BaseModel):
    points: int
    condition_vi: str
    condition_en: str


class CriterionOut(BaseModel):
    number: int
    name_vi: str
    name_en: str
    max_points: int
    bands: list[BandOut]


class ScoringOut(BaseModel):
    rule_set_id: str
    legal_basis: str
    max_total: int
    threshold: int = Field(description="the total the unit's locality type must reach")
    criteria: list[CriterionOut]
    prefill: dict[int, int] = Field(description="scores already given at an earlier stage (self-assessment)")


class ObjectionOut(BaseModel):
    id: str
    text: str


class FormSpec(BaseModel):
    stage: str
    json_schema: dict[str, Any] = Field(description="JSON Schema of the body POST /v1/tasks/{id}/complete takes")
    scoring: ScoringOut | None = Field(description="for self-assessment and council assessment")
    posting_working_days: int | None = Field(description="for public posting: how long the result stays posted")
    open_objections: list[ObjectionOut] = Field(description="for council assessment: objections to answer")
    verdict: dict[str, Any] | None = Field(description="for the decision: the verdict on the council's scores")


async def form_spec(session: AsyncSession, task: TaskRow, case: CaseRow) -> FormSpec | None:
    stage = Stage(task.stage)
    model = FORMS.get(stage)
    if model is None:
        return None
    scoring = None
    if stage in SCORING:
        rule_set = load_rule_set(case.rule_set_id)
        prefill: dict[int, int] = {}
        if stage == Stage.COUNCIL_ASSESSMENT:
            rows = await session.execute(
                select(CriterionScoreRow.criterion, CriterionScoreRow.points).where(
                    CriterionScoreRow.case_id == case.id, CriterionScoreRow.kind == "self"
                )
            )
            prefill = {c: p for c, p in rows.all()}
        scoring = ScoringOut(
            rule_set_id=rule_set.id,
            legal_basis=rule_set.legal_basis,
            max_total=rule_set.max_total,
            threshold=rule_set.threshold(case.locality_type),  # type: ignore[arg-type]
            criteria=[
                CriterionOut(
                    number=c.number,
                    name_vi=c.name_vi,
                    name_en=c.name_en,
                    max_points=c.max_points,
                    bands=[
                        BandOut(points=b.points, condition_vi=b.condition_vi, condition_en=b.condition_en)
                        for b in c.bands
                    ],
                )
                for c in rule_set.criteria
            ],
            prefill=prefill,
        )
    return FormSpec(
        stage=stage.value,
        json_schema=model.model_json_schema(),
        scoring=scoring,
        posting_working_days=load_profile(case.profile_id).posting_working_days
        if stage == Stage.PUBLIC_POSTING
        else None,
        open_objections=await _open_objections(session, case.id) if stage == Stage.COUNCIL_ASSESSMENT else [],
        verdict=case.verdict if stage == Stage.DECISION else None,
    )


async def _open_objections(session: AsyncSession, case_id: str) -> list[ObjectionOut]:
    """The objections of the posting that sent the case back to the council (none on its first pass)."""
    last = (
        await session.execute(
            select(AuditEventRow.action, AuditEventRow.payload)
            .where(
                AuditEventRow.case_id == case_id,
                AuditEventRow.to_stage == Stage.COUNCIL_ASSESSMENT.value,
                AuditEventRow.from_stage.is_distinct_from(Stage.COUNCIL_ASSESSMENT.value),  # entering the stage
            )
            .order_by(AuditEventRow.seq.desc())
            .limit(1)
        )
    ).first()
    if last is None or last.action != "public_posting_completed":
        return []
    return [
        ObjectionOut(id=str(o.get("id", "")), text=str(o.get("text", "")))
        for o in last.payload.get("objections", [])
        if isinstance(o, dict)
    ]
