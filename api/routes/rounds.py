"""Assessment rounds of a province (services/rounds): open one, follow its progress, read its report (JSON, CSV or
XLSX), download the draft recognition decision (DOCX or PDF) and its annex's unit list (XLSX)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response

from api.deps import PrincipalDep, SessionDep, TemporalDep
from api.problems import problems
from infra.clock import today_vn
from services.fields import PROVINCE_PATTERN, ROUND_PATTERN
from services.rounds import documents
from services.rounds import service as rounds
from services.rounds.report import report_csv
from services.rounds.report_xlsx import report_xlsx
from services.rounds.schemas import OpenRoundOut, OpenRoundRequest, ProgressOut, ReportOut
from services.stage_times import service as stage_times
from services.stage_times.schemas import StageTimesOut

router = APIRouter(prefix="/v1/rounds", tags=["rounds"])

PROVINCE_Q = Query(pattern=PROVINCE_PATTERN, description="the province's two-digit code")
RoundPath = Annotated[str, Path(pattern=ROUND_PATTERN, description="e.g. qd06-2019:2027")]

OPEN_WAIT_SECONDS = 60.0  # a province opens in seconds; past this the answer is 202 and the opening goes on


@router.post(
    "",
    response_model=OpenRoundOut,
    summary="Open a round for a province: its round workflow starts one case per unit (idempotent)",
    description="Only a round that lies ahead opens: of the rule set in force, the current assessment or one of the "
    "next `XPTT_ROUNDS_OPEN_AHEAD` (default 1); any other round is refused with 422 naming `round_id`. "
    "`rehearsal_opens_on` (YYYY-MM-DD, within a year of today) opens a rehearsal: the round's calendar moved so that "
    "self-assessment opens that day; any other value is refused with 422 naming `rehearsal_opens_on`.",
    responses={
        202: {"model": OpenRoundOut, "description": "still opening: follow the progress route"},
        **problems(403, 503),
    },
)
async def open_(
    req: OpenRoundRequest,
    request: Request,
    response: Response,
    principal: PrincipalDep,
    session: SessionDep,
    temporal: TemporalDep,
) -> OpenRoundOut:
    state = request.app.state
    out = await rounds.open_(
        session,
        temporal,
        state.sessions,
        principal,
        req,
        task_queue=state.settings.task_queue,
        wait=OPEN_WAIT_SECONDS,
        now=datetime.now(UTC),
        ahead=state.settings.rounds_open_ahead,
    )
    if out.opening:
        response.status_code = 202
    return out


@router.get(
    "/{round_id}/progress",
    response_model=ProgressOut,
    summary="Where the cases of a round stand in a province",
    responses=problems(403, 404),
)
async def progress(
    round_id: RoundPath,
    principal: PrincipalDep,
    session: SessionDep,
    temporal: TemporalDep,
    province: Annotated[str, PROVINCE_Q],
) -> ProgressOut:
    return await rounds.progress(session, temporal, principal, round_id, province, now=datetime.now(UTC))


@router.get(
    "/{round_id}/report",
    response_model=ReportOut,
    summary="The round's report for a province: counts, share recognised, one row per unit (JSON or CSV)",
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "JSON, or CSV (one row per unit) with format=csv, or an XLSX workbook with format=xlsx",
        },
        **problems(403, 404),
    },
)
async def report(
    round_id: RoundPath,
    principal: PrincipalDep,
    session: SessionDep,
    province: Annotated[str, PROVINCE_Q],
    format: Annotated[
        Literal["json", "csv", "xlsx"],
        Query(description="json (default), csv (codes, for machines) or xlsx (for people)"),
    ] = "json",
) -> ReportOut | Response:
    out = await rounds.report(session, principal, round_id, province, now=datetime.now(UTC))
    if format == "json":
        return out
    if format == "xlsx":
        return Response(
            report_xlsx(out),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="bao-cao-{out.round_id[-4:]}-{province}.xlsx"'},
        )
    filename = f"report-{round_id.replace(':', '-')}-{province}.csv"
    return Response(
        report_csv(out),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/{round_id}/decision",
    response_class=Response,
    summary="The draft recognition decision of a round in a province (DOCX or PDF), or its annex's unit list (XLSX)",
    description="Decree 30/2020/NĐ-CP's layout, in Vietnamese: the province's People's Committee, a blank number and "
    "date, the legal bases, three articles, the recipients and the signing block, then the annex listing exactly the "
    "units whose case closed recognised. Who may read the round's report may download it. No unit recognised yet: "
    "409 `no_recognised_units`; a PDF without its font (`XPTT_PDF_FONT_DIR`): 503 `pdf_font_missing`.",
    responses={
        200: {
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}} for media in documents.MEDIA_TYPES.values()
            },
            "description": "the file, as an attachment named e.g. du-thao-quyet-dinh-2027-33.docx",
        },
        **problems(403, 404, 409, 503),
    },
)
async def decision(
    round_id: RoundPath,
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
    province: Annotated[str, PROVINCE_Q],
    format: Annotated[
        documents.DecisionFormat,
        Query(description="docx (default: to complete and sign), pdf, or xlsx (the annex's unit list)"),
    ] = "docx",
) -> Response:
    out = await documents.decision(
        session,
        principal,
        round_id,
        province,
        fmt=format,
        now=datetime.now(UTC),
        today=today_vn(),
        font_dir=request.app.state.settings.pdf_font_dir,
    )
    return Response(
        out.content,
        media_type=out.media_type,
        headers={"Content-Disposition": f'attachment; filename="{out.filename}"'},
    )


@router.get(
    "/{round_id}/stage-times",
    response_model=StageTimesOut,
    summary="Where the time of a round goes: time in stage (P50, P90, max in working days), escalations, returns, "
    "objections and on-time rates by province and locality type, and the slowest units",
    description="Computed from the journal (docs/stage-times.md). Admins and auditors read their provinces (without "
    "`province`: every province they oversee) with the slowest units; the ministry reads every province's figures "
    "but no unit (`units_listed` false), and a group of fewer than 3 cases of a province it does not oversee as its "
    "number of cases only (`suppressed` true, every other figure null). Another province: 403. A province code "
    "naming no province, or a `locality_type` that is none of the three: 422 naming the field; a round never "
    "opened: 404.",
    responses=problems(403, 404, 422),
)
async def stage_times_(
    round_id: RoundPath,
    principal: PrincipalDep,
    session: SessionDep,
    province: Annotated[str | None, Query(description="the province's two-digit code (default: all you read)")] = None,
    locality_type: Annotated[
        str | None, Query(description="central-city-ward, mountain-island-disadvantaged or other (default: all)")
    ] = None,
    top: Annotated[int, Query(description="how many of the slowest units (0 to 100)")] = stage_times.TOP_DEFAULT,
) -> StageTimesOut:
    return await stage_times.figures(
        session, principal, round_id, province=province, locality_type=locality_type, top=top, now=datetime.now(UTC)
    )
