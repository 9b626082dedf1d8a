"""Past rounds (services/history): import a province's recognitions of rounds before this system (dry run unless
`apply=true`), list them, and a unit's predecessors in the 2025 merger. Administrators of the province import;
administrators and auditors read; whoever may read a unit reads its predecessors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, File, Path, Query, UploadFile

from api.deps import PrincipalDep, SessionDep
from api.problems import problems
from services.errors import Refusal
from services.fields import PROVINCE_PATTERN, UNIT_PATTERN
from services.history import service
from services.history.schemas import ImportReport, PastRecognitionOut

router = APIRouter(tags=["past rounds"])

Province = Annotated[str, Path(pattern=PROVINCE_PATTERN, description="the province's two-digit code")]


@router.post(
    "/v1/provinces/{code}/past-rounds",
    response_model=ImportReport,
    summary="Import a CSV or XLSX of past recognitions: a per-row report; written only with apply=true",
    description="One row per unit recognised in a past round (docs/history.md). With `apply=true` every row is "
    "written in one transaction, or none when any row is refused: then 422 `import_refused` with the report.",
    responses=problems(403, 404),
)
async def import_(
    code: Province,
    principal: PrincipalDep,
    session: SessionDep,
    file: Annotated[UploadFile, File(description="the file: .csv (UTF-8) or .xlsx")],
    apply: Annotated[bool, Query(description="write it (default: a dry run)")] = False,
) -> ImportReport:
    data = await file.read()
    report = await service.import_past_rounds(
        session, principal, code, data, apply=apply, now=datetime.now(UTC), file_name=file.filename
    )
    if apply and not report.applied:
        raise Refusal(
            422,
            "import_refused",
            f"file: {report.refused} of {report.rows} rows are refused; nothing was written",
            field="file",
            report=report.model_dump(mode="json"),
        )
    return report


@router.get(
    "/v1/provinces/{code}/past-rounds",
    response_model=list[PastRecognitionOut],
    summary="The province's imported recognitions of past rounds",
    responses=problems(403),
)
async def list_(
    code: Province,
    principal: PrincipalDep,
    session: SessionDep,
    year: Annotated[int | None, Query(ge=2010, le=2100, description="one round's year")] = None,
) -> list[PastRecognitionOut]:
    return await service.list_past_recognitions(session, principal, code, year=year)


@router.get(
    "/v1/units/{code}/lineage",
    response_model=service.LineageOut,
    summary="A current unit's predecessors: the units before 1 July 2025 merged into it",
    responses=problems(404),
)
async def lineage(
    code: Annotated[str, Path(pattern=UNIT_PATTERN, description="the unit's five-digit code")],
    principal: PrincipalDep,
    session: SessionDep,
) -> service.LineageOut:
    return await service.unit_lineage(session, principal, code)
