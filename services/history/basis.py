"""The history a unit's commendation check reads (activities/case_store.py `load_recognition_history`): its closed
cases, past recognitions imported under its own code, and its predecessors' past recognitions under the merger
policy (domain/merger.py), each round with its basis."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import CaseRow
from db.models_history import PastRecognitionRow
from domain.merger import RoundBasis, canonical_id, merged_history, merger_settings
from domain.stages import Outcome
from services.history.lineage import predecessors_of


async def recognition_history(session: AsyncSession, unit_code: str, round_id: str) -> list[RoundBasis]:
    """The unit's rounds before `round_id`, oldest first, each with its basis."""
    cases = await session.execute(
        select(CaseRow.round_id, CaseRow.outcome)
        .where(
            CaseRow.unit_code == unit_code,
            CaseRow.round_id != round_id,
            CaseRow.status == "closed",
            CaseRow.outcome.is_not(None),
        )
        .order_by(CaseRow.round_id)
    )
    own_cases = {rid: outcome == Outcome.RECOGNISED.value for rid, outcome in cases}
    own_past = set(
        await session.scalars(
            select(PastRecognitionRow.round_id).where(
                PastRecognitionRow.unit_code == unit_code, PastRecognitionRow.former.is_(False)
            )
        )
    )
    predecessors = await predecessors_of(session, unit_code)
    recognised: dict[str, set[str]] = {}
    if predecessors:
        rows = await session.execute(
            select(PastRecognitionRow.unit_code, PastRecognitionRow.round_id).where(
                PastRecognitionRow.unit_code.in_([p.code for p in predecessors]), PastRecognitionRow.former.is_(True)
            )
        )
        for code, rid in rows:
            recognised.setdefault(code, set()).add(rid)
    history = merged_history(
        own_cases=own_cases,
        own_past=own_past,
        predecessors=predecessors,
        recognised=recognised,
        settings=merger_settings(),
    )
    current = canonical_id(round_id)
    return [b for b in history if b.round_id != current]
