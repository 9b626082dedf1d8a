"""The officials' directory of a province (services/officials): list and read officials, create, change and
deactivate them, give and end their roles, import the province's spreadsheet (dry run unless `apply=true`), read
and verify the directory's journal, check who holds the roles the procedure needs (coverage), record leaves and
their deputies. Administrators of the province write; administrators and auditors read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, File, Path, Query, UploadFile

from api.deps import PrincipalDep, SessionDep, TemporalDep
from api.problems import problems
from services.errors import Refusal
from services.fields import ID_PATTERN, PROVINCE_PATTERN
from services.officials import absences, coverage, importer, service
from services.officials.absences import AbsenceOut, AbsenceRequest, EndAbsenceRequest
from services.officials.coverage import CoverageOut, DeactivationOut
from services.officials.schemas import (
    DeactivateRequest,
    DirectoryVerification,
    EndRoleRequest,
    ImportReport,
    JournalEntryOut,
    NewOfficialRequest,
    OfficialOut,
    OfficialPatch,
    RoleRequest,
)

router = APIRouter(prefix="/v1/officials", tags=["officials"])

Province = Annotated[str, Query(pattern=PROVINCE_PATTERN, description="the province's two-digit code")]
OfficialId = Annotated[str, Path(pattern=ID_PATTERN, description="the official's code")]


def _now() -> datetime:
    return datetime.now(UTC)


@router.get("", response_model=list[OfficialOut], summary="The officials of a province with their roles there")
async def list_(
    principal: PrincipalDep,
    session: SessionDep,
    province: Province,
    include_inactive: Annotated[bool, Query(description="deactivated officials too")] = False,
) -> list[OfficialOut]:
    return await service.list_officials(session, principal, province, now=_now(), include_inactive=include_inactive)


@router.get("/journal", response_model=list[JournalEntryOut], summary="The directory's journal of a province")
async def journal(
    principal: PrincipalDep,
    session: SessionDep,
    province: Province,
    after_seq: Annotated[int, Query(ge=0, description="rows after this seq")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[JournalEntryOut]:
    return await service.journal(session, principal, province, after_seq=after_seq, limit=limit)


@router.get(
    "/journal/verify",
    response_model=DirectoryVerification,
    summary="Verify the hash chain of a province's directory journal: the first altered, missing or relinked row",
)
async def verify(principal: PrincipalDep, session: SessionDep, province: Province) -> DirectoryVerification:
    return await service.verify(session, principal, province)


@router.get(
    "/coverage",
    response_model=CoverageOut,
    summary="Every unit × every role the procedure needs at its stage, who holds it today, and the gaps",
    responses=problems(403),
)
async def coverage_(principal: PrincipalDep, session: SessionDep, province: Province) -> CoverageOut:
    return await coverage.coverage(session, principal, province, now=_now())


@router.post(
    "/import",
    response_model=ImportReport,
    summary="Import a CSV or XLSX of officials and roles: a per-row report; written only with apply=true",
    description="One row per official and role (docs/officials.md). With `apply=true` every row is written in one "
    "transaction, or none when any row is refused: then 422 `import_refused` with the report.",
    responses=problems(403),
)
async def import_(
    principal: PrincipalDep,
    session: SessionDep,
    province: Province,
    file: Annotated[UploadFile, File(description="the spreadsheet: .csv (UTF-8) or .xlsx")],
    apply: Annotated[bool, Query(description="write it (default: a dry run)")] = False,
) -> ImportReport:
    data = await file.read()
    report = await importer.import_officials(session, principal, province, data, apply=apply, now=_now())
    if apply and not report.applied:
        raise Refusal(
            422,
            "import_refused",
            f"file: {report.refused} of {report.rows} rows are refused; nothing was written",
            field="file",
            report=report.model_dump(mode="json"),
        )
    return report


@router.post(
    "",
    response_model=OfficialOut,
    status_code=201,
    summary="Register an official with their roles",
    responses=problems(403, 409),
)
async def create(req: NewOfficialRequest, principal: PrincipalDep, session: SessionDep) -> OfficialOut:
    return await service.create_official(session, principal, req, now=_now())


@router.get("/{official_id}", response_model=OfficialOut, summary="One official with all their roles")
async def get(official_id: OfficialId, principal: PrincipalDep, session: SessionDep) -> OfficialOut:
    return await service.get_official(session, principal, official_id, now=_now())


@router.patch(
    "/{official_id}", response_model=OfficialOut, summary="Change an official's details", responses=problems(403, 409)
)
async def patch(
    official_id: OfficialId, req: OfficialPatch, principal: PrincipalDep, session: SessionDep
) -> OfficialOut:
    return await service.update_official(session, principal, official_id, req, now=_now())


@router.post(
    "/{official_id}/deactivate",
    response_model=DeactivationOut,
    summary="Deactivate an official (never deleted); their open tasks go to another holder of the role",
    description="Once the deactivation is committed, each open task assigned to the official is reassigned to "
    "another active holder of its role over its unit (the case's `reassign` Update, signed for you), or left open "
    "(`left_open`): on the board as no one holds this role when no one does.",
    responses=problems(403, 409),
)
async def deactivate(
    official_id: OfficialId, req: DeactivateRequest, principal: PrincipalDep, session: SessionDep, temporal: TemporalDep
) -> DeactivationOut:
    return await service.deactivate_official(session, principal, official_id, req.reason, now=_now(), temporal=temporal)


@router.post(
    "/{official_id}/roles",
    response_model=OfficialOut,
    status_code=201,
    summary="Give an official a role over a unit or the province",
    responses=problems(403, 409),
)
async def add_role(
    official_id: OfficialId, req: RoleRequest, principal: PrincipalDep, session: SessionDep
) -> OfficialOut:
    return await service.add_role(session, principal, official_id, req, now=_now())


@router.post(
    "/{official_id}/roles/{assignment_id}/end",
    response_model=OfficialOut,
    summary="End a role assignment (it is kept, with its last day)",
    responses=problems(403, 409),
)
async def end_role(
    official_id: OfficialId,
    assignment_id: Annotated[int, Path(ge=1, le=2**53 - 1)],
    req: EndRoleRequest,
    principal: PrincipalDep,
    session: SessionDep,
) -> OfficialOut:
    return await service.end_role(session, principal, official_id, assignment_id, req, now=_now())


@router.get(
    "/{official_id}/absences",
    response_model=list[AbsenceOut],
    summary="An official's leaves and their deputies, latest first",
    responses=problems(403),
)
async def list_absences(official_id: OfficialId, principal: PrincipalDep, session: SessionDep) -> list[AbsenceOut]:
    return await absences.list_absences(session, principal, official_id, now=_now())


@router.post(
    "/{official_id}/absences",
    response_model=AbsenceOut,
    status_code=201,
    summary="Record a leave and the deputy who stands in meanwhile",
    description="The deputy must hold every role that takes tasks the official holds, over the same units, for the "
    "whole leave. During it the deputy gets the official's reminders and new tasks; when the leave has begun, the "
    "official's open tasks are reassigned to the deputy at once (`reassigned`, `left_open`), else on its first "
    "morning. Nothing is handed back when it ends.",
    responses=problems(403, 409),
)
async def record_absence(
    official_id: OfficialId, req: AbsenceRequest, principal: PrincipalDep, session: SessionDep, temporal: TemporalDep
) -> AbsenceOut:
    return await absences.record_absence(session, principal, official_id, req, now=_now(), temporal=temporal)


@router.post(
    "/{official_id}/absences/{absence_id}/end",
    response_model=AbsenceOut,
    summary="End a leave early (default: yesterday was its last day), or cancel one not yet begun",
    responses=problems(403, 409),
)
async def end_absence(
    official_id: OfficialId,
    absence_id: Annotated[int, Path(ge=1, le=2**53 - 1)],
    req: EndAbsenceRequest,
    principal: PrincipalDep,
    session: SessionDep,
) -> AbsenceOut:
    return await absences.end_absence(session, principal, official_id, absence_id, req, now=_now())
