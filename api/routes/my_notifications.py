"""My in-app notifications (written by the notification outbox) and marking them read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import PrincipalDep, SessionDep
from api.problems import problems
from services.me import service
from services.me.schemas import MarkReadOut, MarkReadRequest, NotificationsOut

router = APIRouter(prefix="/v1/me", tags=["me"])


@router.get(
    "/notifications",
    response_model=NotificationsOut,
    summary="My in-app notifications, newest first",
    responses=problems(),
)
async def my_notifications(
    principal: PrincipalDep,
    session: SessionDep,
    unread: Annotated[bool, Query(description="only those not read yet")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> NotificationsOut:
    return await service.notifications(session, principal, unread=unread, limit=limit)


@router.post(
    "/notifications/read", response_model=MarkReadOut, summary="Mark my notifications read", responses=problems()
)
async def read_notifications(req: MarkReadRequest, principal: PrincipalDep, session: SessionDep) -> MarkReadOut:
    marked = await service.mark_read(session, principal, req.ids, at=datetime.now(UTC))
    await session.commit()
    return marked
