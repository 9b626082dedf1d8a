"""My in-app notifications (written by the notification outbox) and marking them read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from api.deps import PrincipalDep, SessionDep
from api.problems import problems
from notify.inbox import InAppNotification, count_unread, list_notifications, mark_read
from services.fields import Id

router = APIRouter(prefix="/v1/me", tags=["me"])


class NotificationsOut(BaseModel):
    unread: int
    items: list[InAppNotification]


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
    items = await list_notifications(session, principal.official_id, unread_only=unread, limit=limit)
    return NotificationsOut(unread=await count_unread(session, principal.official_id), items=items)


class MarkReadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[Id] = Field(min_length=1, max_length=500)


class MarkReadOut(BaseModel):
    marked: list[str] = Field(description="the ids that were unread until now (others' ids are ignored)")
    unread: int


@router.post(
    "/notifications/read", response_model=MarkReadOut, summary="Mark my notifications read", responses=problems()
)
async def read_notifications(req: MarkReadRequest, principal: PrincipalDep, session: SessionDep) -> MarkReadOut:
    marked = await mark_read(session, principal.official_id, req.ids, at=datetime.now(UTC))
    unread = await count_unread(session, principal.official_id)
    await session.commit()
    return MarkReadOut(marked=marked, unread=unread)
