"""What the caller reads of themselves: their roles and their in-app notifications."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from notify.inbox import InAppNotification
from services.fields import Id


class ScopeOut(BaseModel):
    role: str
    province_code: str
    unit_code: str | None = Field(description="null: the whole province")


class MeOut(BaseModel):
    official_id: str
    full_name: str
    roles: list[ScopeOut]


class NotificationsOut(BaseModel):
    unread: int
    items: list[InAppNotification]


class MarkReadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[Id] = Field(min_length=1, max_length=500)


class MarkReadOut(BaseModel):
    marked: list[str] = Field(description="the ids that were unread until now (others' ids are ignored)")
    unread: int
