"""Policy what-if (services/whatif): a round's decided cases under a draft rule set, the draft and the criteria
mapping uploaded as files. A province's administrators and auditors ask for their province, the ministry for any
province or the nation (the figures, no unit outside the provinces it oversees). Nothing is written."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from api.deps import PrincipalDep, SessionDep
from api.problems import problems
from services.errors import Refusal
from services.whatif import service
from services.whatif.schemas import WhatIfOut, WhatIfRequest

router = APIRouter(tags=["rules"])


@router.post(
    "/v1/rules/what-if",
    response_model=WhatIfOut,
    summary="Evaluate a round's decided cases under a draft rule set: flips, shares against the target, thresholds",
    description="Multipart: `draft` (YAML in the rule sets' schema, `draft: true`), optional `mapping` (YAML: "
    "`criteria: {official number: draft number | dropped}`), `round_id`, optional `province` (none: every province, "
    "for the ministry). The ministry gets no unit outside the provinces it oversees (`units_listed` false). "
    "docs/whatif.md.",
    responses=problems(403, 404, 422),
)
async def what_if(
    principal: PrincipalDep,
    session: SessionDep,
    draft: Annotated[UploadFile, File(description="the draft rule set (YAML)")],
    round_id: Annotated[str, Form(description="the round, e.g. qd06-2019:2027")],
    province: Annotated[str | None, Form(description="two-digit province code; none: the nation")] = None,
    mapping: Annotated[UploadFile | None, File(description="the criteria mapping (YAML)")] = None,
) -> WhatIfOut:
    try:
        req = WhatIfRequest(round_id=round_id, province=province or None)
    except ValueError as exc:
        field = "province" if "province" in str(exc) else "round_id"
        raise Refusal(422, "invalid_request", f"{field}: not a {field.replace('_', ' ')}", field=field) from None
    files = (await draft.read(), draft.filename or "draft.yaml")
    mapped = (await mapping.read(), mapping.filename or "mapping.yaml") if mapping is not None else None
    return await service.run(session, principal, req, draft=files, mapping=mapped, now=datetime.now(UTC))
