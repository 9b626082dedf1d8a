"""The caller: who the token names and the roles the database gives them."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import PrincipalDep
from api.problems import problems
from services.me import service
from services.me.schemas import MeOut

router = APIRouter(prefix="/v1/me", tags=["me"])


@router.get("", response_model=MeOut, summary="Who I am and the roles I hold", responses=problems())
async def me(principal: PrincipalDep) -> MeOut:
    return service.me(principal)
