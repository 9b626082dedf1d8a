"""Audit routes: verify a case's journal, archive and replay its history, export its offline bundle.

Open to auditors and administrators whose scope covers the case's unit; a case outside the official's scope is
answered as absent (404), a case in scope read by another role is refused (403).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.background import BackgroundTask

from api.deps import PrincipalDep, SessionDep, TemporalDep
from audit.eventlog.service import FORMATS, MEDIA_TYPES, export_log, file_name
from audit.service import ReplayReport, archive_case, export_case, replay_case, verify_case
from audit.verify import CaseVerification
from contracts import ArchiveHistoryResult
from db.models import CaseRow
from services.access import require_audit, require_oversight
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


@router.get(
    "/rounds/{round_id}/event-log",
    response_class=FileResponse,
    responses={200: {"content": {t: {} for t in MEDIA_TYPES.values()}, "description": "the event log file"}},
)
async def event_log(
    round_id: str, principal: PrincipalDep, request: Request, format: str = "ocel", province: str | None = None
) -> FileResponse:
    """The round's journal as an event log for process mining (docs/event-log.md): `format` ocel (OCEL 2.0 JSON),
    ocel-sqlite or xes; the cases of `province`, else of every province the official oversees (auditors and
    administrators). Officials appear by id only."""
    provinces = require_oversight(principal, province)
    if format not in FORMATS:  # refused before anything is written (the service says so too)
        raise Refusal(422, "unknown_log_format", f"format must be one of {', '.join(FORMATS)}", field="format")
    folder = Path(tempfile.mkdtemp(prefix="xptt-event-log-"))
    name = file_name(format, round_id, province)
    try:
        await export_log(_sessions(request), format, round_id, folder / name, provinces=sorted(provinces))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        folder / name,
        media_type=MEDIA_TYPES[format],
        filename=name,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )
