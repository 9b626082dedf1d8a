"""The caller: who the token names and the roles the database gives them."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import PrincipalDep
from api.problems import problems

router = APIRouter(prefix="/v1/me", tags=["me"])


class ScopeOut(BaseModel):
    role: str
    province_code: str
    unit_code: str | None = Field(description="null: the whole province")


class MeOut(BaseModel):
    official_id: str
    full_name: str
    roles: list[ScopeOut]


@router.get("", response_model=MeOut, summary="Who I am and the roles I hold", responses=problems())
async def me(principal: PrincipalDep) -> MeOut:
    return MeOut(
        official_id=principal.official_id,
        full_name=principal.full_name,
        roles=[
            ScopeOut(role=s.role.value, province_code=s.province_code, unit_code=s.unit_code) for s in principal.scopes
        ],
    )
