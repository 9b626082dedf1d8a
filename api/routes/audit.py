"""Audit routes: verify a case's journal, archive and replay its history, export its offline bundle.

Open to auditors and administrators whose scope covers the case's unit; a case outside the official's scope is
answered as absent (404), a case in scope read by another role is refused (403).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.deps import PrincipalDep, SessionDep, TemporalDep
from audit.service import ReplayReport, archive_case, export_case, replay_case, verify_case
from audit.verify import CaseVerification
from contracts import ArchiveHistoryResult
from db.models import CaseRow
from services.access import require_audit
from services.errors import Refusal

router = APIRouter(prefix="/v1/audit", tags=["audit"])


async def _audited_case(case_id: str, principal: PrincipalDep, session: AsyncSession) -> CaseRow:
    case = await session.get(CaseRow, case_id)
    if case is None:
        raise Refusal(404, "case_not_found", f"no case {case_id} in your units")
    require_audit(principal, case.unit_code, case.province_code, case_id=case_id)
    return case


def _sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    factory: async_sessionmaker[AsyncSession] = request.app.state.sessions
    return factory


@router.get("/cases/{case_id}/verify", response_model=CaseVerification)
async def verify(case_id: str, principal: PrincipalDep, session: SessionDep, request: Request) -> CaseVerification:
    """The case's hash chain, its anchors and its archived histories: the first broken row, or that it holds."""
    await _audited_case(case_id, principal, session)
    return await verify_case(_sessions(request), case_id)


@router.post("/cases/{case_id}/replay", response_model=ReplayReport)
async def replay(
    case_id: str, principal: PrincipalDep, session: SessionDep, temporal: TemporalDep, request: Request
) -> ReplayReport:
    """Replay the archived (else live) history on the current workflow code; the decisions with their verdicts."""
    await _audited_case(case_id, principal, session)
    return await replay_case(_sessions(request), temporal, case_id)


@router.post("/cases/{case_id}/archive", response_model=ArchiveHistoryResult)
async def archive(
    case_id: str, principal: PrincipalDep, session: SessionDep, temporal: TemporalDep, request: Request
) -> ArchiveHistoryResult:
    """Store the case's history from Temporal now (the complete one once the case is closed)."""
    await _audited_case(case_id, principal, session)
    return await archive_case(_sessions(request), temporal, case_id)


@router.get(
    "/cases/{case_id}/export",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}, "description": "the bundle (RFC 8785 JSON)"}},
)
async def export(case_id: str, principal: PrincipalDep, session: SessionDep, request: Request) -> Response:
    """The case's self-contained bundle; `xptt audit verify-bundle FILE` checks it offline."""
    await _audited_case(case_id, principal, session)
    raw, digest = await export_case(_sessions(request), case_id, now=datetime.now(UTC))
    name = re.sub(r"[^A-Za-z0-9._-]", "_", case_id)
    return Response(
        content=raw,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}.audit.json"', "X-Bundle-SHA256": digest},
    )
