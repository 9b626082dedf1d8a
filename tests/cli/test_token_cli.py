"""`xptt token`: a person's token within the person cap, a service token (`--service`) within its own, each with an
audience and a jti; longer validity refused; `xptt token revoke JTI` makes the API refuse the token at once."""

from __future__ import annotations

import time

import jwt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from db.models import RevokedTokenRow
from tests.api.helpers import problem
from tests.support import SECRET, running_stack, xptt

ENV = {"XPTT_JWT_SECRET": SECRET}


async def _xptt(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    code, out, err = await xptt({**ENV, **env}, *args)
    return code, out.strip(), err


def claims(token: str) -> dict[str, object]:
    return jwt.decode(token, SECRET, algorithms=["HS256"], audience="xptt")


async def test_tokens_are_issued_within_their_caps_with_an_audience_and_a_jti() -> None:
    code, token, err = await _xptt({}, "token", "demo-admin-33")
    assert code == 0, err
    person = claims(token)
    assert person["aud"] == "xptt" and person["jti"] and "kind" not in person
    assert person["exp"] - person["iat"] == 24 * 3600  # the person cap by default
    assert str(person["jti"]) in err

    code, token, err = await _xptt({}, "token", "--service", "svc-reports", "--days", "7")
    assert code == 0, err
    service = claims(token)
    assert service["kind"] == "service" and service["exp"] - service["iat"] == 7 * 86400

    code, token, err = await _xptt({"XPTT_JWT_AUDIENCE": "xptt-api"}, "token", "demo-admin-33", "--hours", "2")
    assert code == 0, err
    assert jwt.decode(token, SECRET, algorithms=["HS256"], audience="xptt-api")["exp"] <= time.time() + 2 * 3600 + 5

    for args, says in [
        (["demo-admin-33", "--hours", "25"], "at most 24 hours"),
        (["demo-admin-33", "--days", "2"], "--hours"),
        (["--service", "svc-reports", "--days", "31"], "at most 30 days"),
    ]:
        code, token, err = await _xptt({}, "token", *args)
        assert code == 2 and not token and says in err, (args, code, err)
    code, token, err = await _xptt({"XPTT_JWT_SERVICE_ONLY": "true"}, "token", "demo-admin-33")
    assert code == 2 and "--service" in err, err


async def test_a_revoked_token_is_refused_by_the_api(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with running_stack(temporal_env.client, database_url, sessions) as stack:
        admin = next(o.id for o in stack.officials if o.role.value == "admin")
        code, token, err = await _xptt({}, "token", admin, "--hours", "1")
        assert code == 0, err
        bearer = {"Authorization": f"Bearer {token}"}
        assert (await stack.http.get("/v1/me", headers=bearer)).status_code == 200

        jti = str(claims(token)["jti"])
        code, out, err = await _xptt({"DATABASE_URL": database_url}, "token", "revoke", jti, "--reason", "lost laptop")
        assert code == 0 and f"Đã thu hồi {jti}" in out, (out, err)
        problem(await stack.http.get("/v1/me", headers=bearer), 401, "token_revoked")
        async with sessions() as session:
            row = (await session.execute(select(RevokedTokenRow))).scalar_one()
        assert (row.jti, row.reason) == (jti, "lost laptop")

        code, out, err = await _xptt({"DATABASE_URL": database_url}, "token", "revoke", jti)
        assert code == 0 and "đã bị thu hồi trước đó" in out, (out, err)
