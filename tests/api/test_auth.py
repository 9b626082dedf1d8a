"""Authentication: tokens of an OIDC provider checked against its JWKS served over real HTTP on 127.0.0.1 (keys made
in the test), development tokens with the shared secret, and every way a token can be missing, expired or forged."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.auth import AuthError, JwksCache, TokenVerifier
from api.main import create_app
from infra.settings import Settings
from infra.tokens import issue_token, utcnow
from services.seed import demo_officials, seed_officials, seed_units
from tests.api.helpers import problem, serve
from tests.loopback import JsonHandler, serve_in_thread
from tests.support import SECRET, token_for

ISSUER = "https://sso.example.gov.vn/realms/xptt"
AUDIENCE = "xptt-api"


class Jwks:
    """A JWKS endpoint on a loopback port whose key set the test changes; counts the fetches."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.fetches = 0
        self.down = False
        outer = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:
                outer.fetches += 1
                if outer.down:
                    self.send_response(503)
                    self.end_headers()
                    return
                self.send_json(200, {"keys": outer.keys})

        self.server = serve_in_thread(Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"

    def publish(self, kid: str, key: Any, alg: str) -> None:
        tool = RSAAlgorithm if alg == "RS256" else ECAlgorithm
        jwk = tool.to_jwk(key.public_key(), as_dict=True)
        self.keys.append({**jwk, "kid": kid, "alg": alg, "use": "sig"})


@pytest.fixture
def jwks() -> Iterator[Jwks]:
    server = Jwks()
    yield server
    server.server.shutdown()


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def sign(key: Any, kid: str | None, alg: str = "RS256", **claims: Any) -> str:
    now = datetime.now(UTC)
    body = {"sub": "demo-admin-33", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + timedelta(minutes=5)}
    body.update(claims)
    return jwt.encode(body, key, algorithm=alg, headers={"kid": kid} if kid else None)


def verifier(url: str, client: httpx.AsyncClient, *, min_refresh: float = 0, secret: str = "") -> TokenVerifier:
    settings = Settings.model_validate(
        {"XPTT_JWKS_URL": url, "XPTT_JWT_AUDIENCE": AUDIENCE, "XPTT_JWT_ISSUER": ISSUER, "XPTT_JWT_SECRET": secret}
    )
    return TokenVerifier(settings, jwks=JwksCache(url, client=client, min_refresh_seconds=min_refresh))


async def refused(v: TokenVerifier, token: str, code: str = "invalid_token") -> str:
    with pytest.raises(AuthError) as info:
        await v.verify(token)
    assert info.value.code == code, info.value.detail
    return info.value.detail


async def test_provider_tokens_verify_against_the_jwks_and_a_rotated_key_is_fetched(jwks: Jwks) -> None:
    key_a, key_b = rsa_key(), rsa_key()
    jwks.publish("a", key_a, "RS256")
    async with httpx.AsyncClient() as client:
        v = verifier(jwks.url, client)
        assert (await v.verify(sign(key_a, "a"))).official_id == "demo-admin-33"
        assert (await v.verify(sign(key_a, "a", sub="demo-auditor-33"))).official_id == "demo-auditor-33"
        assert jwks.fetches == 1  # cached
        # the provider rotates: a token naming the new key makes the cache fetch the set again
        jwks.publish("b", key_b, "RS256")
        assert (await v.verify(sign(key_b, "b"))).official_id == "demo-admin-33"
        assert jwks.fetches == 2
        # an ES256 key works the same way
        ec_key = ec.generate_private_key(ec.SECP256R1())
        jwks.publish("e", ec_key, "ES256")
        assert (await v.verify(sign(ec_key, "e", alg="ES256"))).official_id == "demo-admin-33"


async def test_forged_expired_and_misdirected_provider_tokens_are_refused(jwks: Jwks) -> None:
    key, stranger = rsa_key(), rsa_key()
    jwks.publish("a", key, "RS256")
    async with httpx.AsyncClient() as client:
        v = verifier(jwks.url, client)
        assert "Signature" in await refused(v, sign(stranger, "a"))  # right kid, wrong key
        assert "'zz'" in await refused(v, sign(stranger, "zz"))  # a key the provider never published
        await refused(v, sign(key, "a", exp=datetime.now(UTC) - timedelta(minutes=5)), "token_expired")
        assert "audience" in (await refused(v, sign(key, "a", aud="another-app"))).lower()
        assert "issuer" in (await refused(v, sign(key, "a", iss="https://evil.example"))).lower()
        assert "sub" in await refused(v, sign(key, "a", sub=None))
        unsigned = jwt.encode(
            {"sub": "demo-admin-33", "iss": ISSUER, "aud": AUDIENCE, "exp": 4102444800}, None, algorithm="none"
        )
        assert "none" in await refused(v, unsigned)
        # algorithm confusion: an HS256 token while no shared secret is configured
        hs = jwt.encode(
            {"sub": "demo-admin-33", "iss": ISSUER, "aud": AUDIENCE, "exp": 4102444800}, "x" * 32, algorithm="HS256"
        )
        assert "HS256" in await refused(v, hs)
        await refused(v, "abc.def.ghi")


async def test_unknown_key_ids_do_not_make_the_api_hammer_the_provider(jwks: Jwks) -> None:
    key = rsa_key()
    jwks.publish("a", key, "RS256")
    async with httpx.AsyncClient() as client:
        v = verifier(jwks.url, client, min_refresh=60)
        assert (await v.verify(sign(key, "a"))).official_id == "demo-admin-33"
        for n in range(5):
            await refused(v, sign(key, f"random-{n}"))
        assert jwks.fetches == 1


async def test_an_unreachable_jwks_answers_503_until_it_is_back_then_cached_keys_survive_an_outage(jwks: Jwks) -> None:
    key = rsa_key()
    jwks.publish("a", key, "RS256")
    jwks.down = True
    async with httpx.AsyncClient() as client:
        v = verifier(jwks.url, client)
        with pytest.raises(AuthError) as info:
            await v.verify(sign(key, "a"))
        assert (info.value.status, info.value.code) == (503, "auth_unavailable")
        jwks.down = False
        assert (await v.verify(sign(key, "a"))).official_id == "demo-admin-33"
        jwks.down = True
        assert (await v.verify(sign(key, "a"))).official_id == "demo-admin-33"  # served from the cache


async def test_the_api_takes_provider_tokens_and_names_each_refusal(
    jwks: Jwks, temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as session, session.begin():
        await seed_units(session, "33")
        await seed_officials(session, demo_officials("33", "11953"), "33")
    key = rsa_key()
    jwks.publish("a", key, "RS256")
    settings = Settings.model_validate(
        {
            "DATABASE_URL": database_url,
            "XPTT_JWKS_URL": jwks.url,
            "XPTT_JWT_AUDIENCE": AUDIENCE,
            "XPTT_JWT_ISSUER": ISSUER,
        }
    )
    async with serve(create_app(settings, temporal=temporal_env.client)) as http:
        resp = await http.get("/v1/me", headers={"Authorization": f"Bearer {sign(key, 'a')}"})
        assert resp.status_code == 200, resp.text
        assert resp.json()["roles"] == [{"role": "admin", "province_code": "33", "unit_code": None}]
        body = problem(await http.get("/v1/me"), 401, "unauthenticated")
        assert "Bearer" in body["detail"]
        resp = await http.get("/v1/me", headers={"Authorization": "Basic YWxhZGRpbjpvcGVu"})
        problem(resp, 401, "unauthenticated")
        assert resp.headers["www-authenticate"].startswith("Bearer")
        expired = sign(key, "a", exp=datetime.now(UTC) - timedelta(hours=1))
        problem(await http.get("/v1/me", headers={"Authorization": f"Bearer {expired}"}), 401, "token_expired")
        forged = sign(rsa_key(), "a")
        problem(await http.get("/v1/me", headers={"Authorization": f"Bearer {forged}"}), 401, "invalid_token")
        # a development token is refused where no shared secret is configured
        problem(
            await http.get("/v1/me", headers={"Authorization": f"Bearer {token_for('demo-admin-33')}"}),
            401,
            "invalid_token",
        )
        # a valid token for someone who is not (or no longer) an official
        stranger = sign(key, "a", sub="nobody")
        problem(await http.get("/v1/me", headers={"Authorization": f"Bearer {stranger}"}), 401, "unknown_official")


async def test_development_tokens_work_with_the_shared_secret_only(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as session, session.begin():
        await seed_units(session, "33")
        await seed_officials(session, demo_officials("33", "11953"), "33")
    settings = Settings.model_validate({"DATABASE_URL": database_url, "XPTT_JWT_SECRET": SECRET})
    async with serve(create_app(settings, temporal=temporal_env.client)) as http:
        ok = await http.get("/v1/me", headers={"Authorization": f"Bearer {token_for('demo-officer-11953')}"})
        assert ok.status_code == 200, ok.text
        assert ok.json()["roles"] == [{"role": "commune_officer", "province_code": "33", "unit_code": "11953"}]
        wrong_secret = jwt.encode(
            {"sub": "demo-admin-33", "iss": "xptt", "exp": 4102444800}, "another-secret-" + "y" * 32, algorithm="HS256"
        )
        problem(await http.get("/v1/me", headers={"Authorization": f"Bearer {wrong_secret}"}), 401, "invalid_token")
        rsa_token = sign(rsa_key(), "a", iss="xptt")
        problem(await http.get("/v1/me", headers={"Authorization": f"Bearer {rsa_token}"}), 401, "invalid_token")


def test_the_api_refuses_to_start_without_a_way_to_verify_tokens() -> None:
    with pytest.raises(RuntimeError, match="XPTT_JWKS_URL"):
        TokenVerifier(Settings.model_validate({"DATABASE_URL": "postgresql://x/y"}))


def shared(**env: str) -> TokenVerifier:
    """A verifier of the product's HS256 tokens, with more settings."""
    return TokenVerifier(Settings.model_validate({"XPTT_JWT_SECRET": SECRET, **env}))


def product_token(ttl: timedelta, *, service: bool = False, audience: str = "xptt") -> str:
    return issue_token(
        "demo-admin-33", secret=SECRET, issuer="xptt", now=utcnow(), ttl=ttl, service=service, audience=audience
    )


async def test_lifetime_caps_follow_the_settings_and_a_service_token_has_its_own() -> None:
    v = shared(XPTT_TOKEN_MAX_HOURS="2", XPTT_SERVICE_TOKEN_MAX_DAYS="3")
    assert (await v.verify(product_token(timedelta(hours=2)))).service is False
    await refused(v, product_token(timedelta(hours=3)), "token_lifetime_exceeded")
    verified = await v.verify(product_token(timedelta(days=3), service=True))
    assert verified.service and verified.jti and verified.official_id == "demo-admin-33"
    await refused(v, product_token(timedelta(days=4), service=True), "token_lifetime_exceeded")
    # the audience is the setting's
    await refused(shared(XPTT_JWT_AUDIENCE="xptt-api"), product_token(timedelta(hours=1)))
    ok = await shared(XPTT_JWT_AUDIENCE="xptt-api").verify(product_token(timedelta(hours=1), audience="xptt-api"))
    assert ok.official_id == "demo-admin-33"


async def test_service_only_accepts_the_shared_secret_for_service_tokens_alone(jwks: Jwks) -> None:
    async with httpx.AsyncClient() as client:
        settings = Settings.model_validate(
            {"XPTT_JWT_SECRET": SECRET, "XPTT_JWT_SERVICE_ONLY": "true", "XPTT_JWKS_URL": jwks.url}
        )
        v = TokenVerifier(settings, jwks=JwksCache(jwks.url, client=client))
        assert "service" in await refused(v, product_token(timedelta(hours=1)))
        assert (await v.verify(product_token(timedelta(days=30), service=True))).service
        # a provider's token never counts as a service token, whatever it claims
        key = rsa_key()
        jwks.publish("a", key, "RS256")
        long = sign(key, "a", iss="xptt", aud="xptt", kind="service", exp=datetime.now(UTC) + timedelta(days=2))
        await refused(v, long, "token_lifetime_exceeded")
    with pytest.raises(RuntimeError, match="XPTT_OIDC_ISSUER"):
        TokenVerifier(Settings.model_validate({"XPTT_JWT_SECRET": SECRET, "XPTT_JWT_SERVICE_ONLY": "true"}))


async def test_provider_tokens_are_capped_and_need_an_integer_exp_and_the_audience(jwks: Jwks) -> None:
    key = rsa_key()
    jwks.publish("a", key, "RS256")
    now = int(datetime.now(UTC).timestamp())
    async with httpx.AsyncClient() as client:
        v = verifier(jwks.url, client)
        await refused(v, sign(key, "a", exp=now + 25 * 3600), "token_lifetime_exceeded")
        await refused(v, sign(key, "a", iat=now - 24 * 3600, exp=now + 3600), "token_lifetime_exceeded")
        assert "exp" in await refused(v, sign(key, "a", exp=float(now + 60)))
        assert "exp" in await refused(v, sign(key, "a", exp=str(now + 60)))
        assert "aud" in await refused(v, sign(key, "a", aud=None))
        assert "JWT ID" in await refused(v, sign(key, "a", jti=17))
        verified = await v.verify(sign(key, "a", jti="provider-jti"))  # a provider's jti is optional, kept when sent
        assert verified.jti == "provider-jti" and not verified.service


def test_an_empty_audience_is_not_a_setting() -> None:
    with pytest.raises(ValueError, match="XPTT_JWT_AUDIENCE"):
        Settings.model_validate({"XPTT_JWT_AUDIENCE": ""})
