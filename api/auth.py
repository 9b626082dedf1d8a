"""Bearer tokens: which official a request comes from.

Two ways, chosen by the token's `alg`:
- RS256 / ES256 — a token of the OIDC provider, verified with the key its `kid` names in the provider's JWKS
  (`XPTT_JWKS_URL`). Keys are cached for `XPTT_JWKS_CACHE_SECONDS`; a token naming an unknown key makes the cache
  fetch the JWKS again (key rotation), at most once per `XPTT_JWKS_MIN_REFRESH_SECONDS` so random key ids cannot
  make us hammer the provider.
- HS256 — a token the product issued with the shared secret (`XPTT_JWT_SECRET`, `xptt token`). It must carry a jti;
  with `XPTT_JWT_SERVICE_ONLY` only service tokens (`kind: service`) are accepted.
Each way is accepted only when it is configured. A token of the product names the official in `sub`; a token of the
provider names its subject there, and signs in the official of the directory whose OIDC issuer and subject are the
token's `iss` and `sub` (when no official has that pair: the official whose id is `sub`, if they have no pair of their
own; `official_signing_in`). Roles and scopes are read from the database, never from the token.

Every token must carry `sub`, `aud` (`XPTT_JWT_AUDIENCE`; an ID token: the OIDC client id) and an integer `exp`, and
live no longer than its cap: exp − iat (exp − now without iat, and never counted from a future iat) at most
`XPTT_TOKEN_MAX_HOURS`, or `XPTT_SERVICE_TOKEN_MAX_DAYS` for a service token. A token whose jti is on the revoked
list (`xptt token revoke`) is refused (`authenticate`, which reads the list in the request's database session).

With OIDC sign-in on the web pages (`XPTT_OIDC_ISSUER`, `XPTT_OIDC_CLIENT_ID`), the provider's ID token is checked
once at the callback (its issuer, the client id as audience, its nonce, expiry, lifetime and signature); the pages
then keep a server-side session (`web.sessions`), never the token.

A token that passed the checks of its signature, claims and lifetime is remembered (by its exact text, at most
`VERIFIED_CACHE` tokens, the least recently used forgotten first) until its exp (with the leeway): those checks give
the same answer until then, so a request with the same token skips them. A provider's token is remembered with the key
that verified it and checked again once the JWKS no longer holds that very key. What can change before exp is never
remembered: the revoked list and the official (active, roles) are read from the database on every request.
"""

from __future__ import annotations

import asyncio
import hmac
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
import structlog
from sqlalchemy import Text, and_, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import OfficialRow
from db.readonly import ReadOnly, fetch
from infra.settings import Settings
from infra.tokens import KIND_CLAIM, SERVICE
from services.access import REVOKED
from services.fields import ID_PATTERN

log = structlog.get_logger(__name__)

ASYMMETRIC = ("RS256", "ES256")
SHARED = "HS256"
LEEWAY_SECONDS = 30  # clock skew allowed on exp, iat and the lifetime cap
MAX_JTI = 200
VERIFIED_CACHE = 10_000  # verified tokens remembered per process


class AuthError(Exception):
    """A token that is not accepted; `code` is the problem code, `status` 401 (or 503 when the JWKS is unreachable)."""

    def __init__(self, code: str, detail: str, status: int = 401) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.status = status


class JwksCache:
    """The OIDC provider's signing keys by key id, fetched over HTTP."""

    def __init__(
        self,
        url: str,
        *,
        client: httpx.AsyncClient,
        ttl_seconds: float = 600,
        min_refresh_seconds: float = 30,
        locate: Callable[[], Awaitable[str]] | None = None,
    ) -> None:
        self.url = url  # empty: asked of `locate` (the OIDC discovery document's jwks_uri) at the first fetch
        self._locate = locate
        self._client = client
        self._ttl = ttl_seconds
        self._min_refresh = min_refresh_seconds
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def key(self, kid: str | None) -> jwt.PyJWK:
        now = time.monotonic()
        if self._fetched_at is None or now - self._fetched_at > self._ttl:
            await self._refresh(now, reason="expired")
        found = self._lookup(kid)
        if found is None and self._fetched_at is not None and now - self._fetched_at >= self._min_refresh:
            await self._refresh(now, reason="unknown_kid")
            found = self._lookup(kid)
        if found is None:
            raise AuthError("invalid_token", f"the token's key id {kid!r} is not among the issuer's keys")
        return found

    def _lookup(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is None:
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)

    async def _refresh(self, requested_at: float, *, reason: str) -> None:
        async with self._lock:
            if self._fetched_at is not None and self._fetched_at >= requested_at:
                return  # another request refreshed while this one waited
            try:
                if not self.url and self._locate is not None:
                    self.url = await self._locate()
                resp = await self._client.get(self.url, timeout=5)
                resp.raise_for_status()
                keys = _parse_jwks(resp.json())
            except (httpx.HTTPError, ValueError) as exc:
                log.warning("jwks_fetch_failed", url=self.url, error=str(exc))
                if self._keys:
                    return  # keep serving the keys we have
                raise AuthError("auth_unavailable", "the token issuer's keys cannot be fetched now", 503) from None
            self._keys = keys
            self._fetched_at = time.monotonic()
            self.fetches += 1
            log.info("jwks_fetched", url=self.url, keys=len(keys), reason=reason)


def _parse_jwks(body: Any) -> dict[str, jwt.PyJWK]:
    if not isinstance(body, dict) or not isinstance(body.get("keys"), list):
        raise ValueError("not a JWK set")
    keys: dict[str, jwt.PyJWK] = {}
    for entry in body["keys"]:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        try:
            key = jwt.PyJWK(entry)
        except jwt.PyJWKError:
            continue  # a key type we do not verify with
        if key.algorithm_name in ASYMMETRIC:
            keys[str(entry.get("kid", ""))] = key
    return keys


@dataclass(frozen=True)
class Verified:
    """What a verified token says: the official (a provider's token: its subject, until `signing_in` finds the
    official), its jti (None: a provider's token without one), when it expires, whether it is a service token, and
    for a provider's token its issuer (`iss`, "" when it names none; None: a token of the product)."""

    official_id: str
    jti: str | None
    expires_at: datetime
    service: bool = False
    issuer: str | None = None


_SIGNING_IN = select(OfficialRow.id, OfficialRow.oidc_subject).where(
    or_(
        and_(
            OfficialRow.oidc_issuer == bindparam("issuer", type_=Text),
            OfficialRow.oidc_subject == bindparam("subject", type_=Text),
        ),
        and_(OfficialRow.id == bindparam("subject", type_=Text), OfficialRow.oidc_issuer.is_(None)),
    )
)


async def official_signing_in(db: ReadOnly | AsyncSession, issuer: str, subject: str) -> str | None:
    """The official a provider's (issuer, subject) signs in: the one whose OIDC pair it is; when nobody has that pair,
    the official whose id is the subject, provided they have no pair of their own (the rule before the directory kept
    pairs). None: nobody. Whether they are active is `services.access.principal_of`'s to say."""
    rows = await fetch(db, _SIGNING_IN, {"issuer": issuer, "subject": subject})
    found = {row["oidc_subject"] is not None: row["id"] for row in rows}  # True: by the pair
    return found.get(True) or found.get(False)


class TokenVerifier:
    def __init__(self, settings: Settings, *, jwks: JwksCache | None = None) -> None:
        if not settings.jwt_secret and not settings.jwks_url and not settings.oidc_enabled:
            raise RuntimeError("set XPTT_JWKS_URL (OIDC provider) or XPTT_JWT_SECRET (development) to verify tokens")
        if settings.jwt_service_only and not settings.jwks_url and not settings.oidc_enabled:
            raise RuntimeError(
                "XPTT_JWT_SERVICE_ONLY: people sign in through the OIDC provider; set XPTT_OIDC_ISSUER and "
                "XPTT_OIDC_CLIENT_ID (or XPTT_JWKS_URL)"
            )
        self._secret = settings.jwt_secret
        self._service_only = settings.jwt_service_only
        self._issuer = settings.jwt_issuer or None
        self._audience = settings.jwt_audience
        self._person_cap = settings.token_max_hours * 3600
        self._service_cap = settings.service_token_max_days * 86400
        # The web pages' sign-in: ID tokens of the provider, issued to this client.
        self._oidc = (settings.oidc_issuer, settings.oidc_client_id) if settings.oidc_enabled else None
        self._jwks = jwks
        # token -> (what it says, the provider's key that verified it and its kid; None: the shared secret)
        self._verified: OrderedDict[str, tuple[Verified, jwt.PyJWK | None, str | None]] = OrderedDict()

    async def authenticate(self, token: str, session: ReadOnly | AsyncSession) -> Verified:
        """A bearer token of the API (or the pages' token sign-in): verified, its jti not revoked, naming the official
        it signs in (`signing_in`)."""
        verified = await self.verify(token)
        await self.not_revoked(verified, session)
        official = await self.signing_in(verified, session)
        if official is None:
            raise AuthError(
                "unknown_official",
                f"no official signs in as {verified.official_id} of {verified.issuer or 'the provider'}",
            )
        return official

    async def signing_in(self, verified: Verified, session: ReadOnly | AsyncSession) -> Verified | None:
        """The token with the official it signs in: a provider's token by its issuer and subject
        (`official_signing_in`), the product's own by its sub. None: a provider's subject no official signs in as."""
        if verified.issuer is None:
            return verified
        official = await official_signing_in(session, verified.issuer, verified.official_id)
        return None if official is None else replace(verified, official_id=official)

    async def verify(self, token: str) -> Verified:
        """The token's signature, claims and lifetime, or AuthError with the reason (the revoked list aside)."""
        known = self._verified.get(token)
        if known is not None and await self._still_valid(*known):
            self._verified.move_to_end(token)
            return known[0]
        self._verified.pop(token, None)
        _, verified, jwk = await self._claims(token, self._issuer, self._audience)
        self._verified[token] = (verified, jwk, _kid(jwt.get_unverified_header(token)) if jwk else None)
        if len(self._verified) > VERIFIED_CACHE:
            self._verified.popitem(last=False)
        return verified

    async def _still_valid(self, verified: Verified, jwk: jwt.PyJWK | None, kid: str | None) -> bool:
        """Whether a remembered verification still holds: before exp + leeway (PyJWT's own rule: nothing else it
        checks, nor the lifetime cap, turns a pass into a refusal as time goes on) and, for a provider's token, while
        the JWKS (refreshed as it would be without the cache) still holds the very key that verified it."""
        if time.time() >= verified.expires_at.timestamp() + LEEWAY_SECONDS:
            return False
        if jwk is None:
            return True
        assert self._jwks is not None  # the provider's key came from it
        try:
            return await self._jwks.key(kid) is jwk
        except AuthError:
            return False  # verified again, which says why

    async def not_revoked(self, verified: Verified, session: ReadOnly | AsyncSession) -> None:
        if verified.jti is not None and await fetch(session, REVOKED, {"jti": verified.jti}):
            raise AuthError("token_revoked", "this token was revoked; get a new one")

    async def id_token_subject(self, token: str, *, nonce: str) -> Verified:
        """The official an OIDC ID token names, after checking its signature, expiry, lifetime, issuer, audience (the
        client id; `azp` too when several audiences are named) and that its nonce is the one this sign-in sent."""
        if self._oidc is None:
            raise AuthError("invalid_token", "OIDC sign-in is not configured")
        issuer, client_id = self._oidc
        claims, verified, _ = await self._claims(token, issuer, client_id, asymmetric_only=True)
        found = claims.get("nonce")
        if not isinstance(found, str) or not hmac.compare_digest(found.encode(), nonce.encode()):
            raise AuthError("invalid_token", "the ID token's nonce is not the one this sign-in sent")
        aud = claims.get("aud")
        if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != client_id:
            raise AuthError("invalid_token", f"the ID token names several audiences and its azp is not {client_id}")
        return verified

    async def _claims(
        self, token: str, issuer: str | None, audience: str, *, asymmetric_only: bool = False
    ) -> tuple[dict[str, Any], Verified, jwt.PyJWK | None]:
        """The token's claims, what it says, and the provider's key that verified it (None: the shared secret)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise AuthError("invalid_token", f"the token is not a JWT: {exc}") from None
        alg = header.get("alg")
        jwk: jwt.PyJWK | None = None
        if alg == SHARED and self._secret and not asymmetric_only:
            key: Any = self._secret
        elif alg in ASYMMETRIC and self._jwks is not None:
            jwk = await self._jwks.key(_kid(header))
            if jwk.algorithm_name != alg:
                raise AuthError("invalid_token", f"the token's alg {alg} does not match its key ({jwk.algorithm_name})")
            key = jwk.key
        else:
            shared = [SHARED] if self._secret and not asymmetric_only else []
            accepted = shared + (list(ASYMMETRIC) if self._jwks else [])
            raise AuthError("invalid_token", f"tokens signed with {alg!r} are not accepted (accepted: {accepted})")
        ours = alg == SHARED  # issued by the product: a jti always
        required = ["sub", "exp", "aud"] + (["iss"] if issuer else []) + (["jti"] if ours else [])
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[alg],
                issuer=issuer,
                audience=audience,
                options={"require": required},
                leeway=LEEWAY_SECONDS,
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("token_expired", "the token has expired; get a new one") from None
        except jwt.InvalidTokenError as exc:
            raise AuthError("invalid_token", f"the token is not valid: {exc}") from None
        service = ours and claims.get(KIND_CLAIM) == SERVICE
        if ours and self._service_only and not service:
            raise AuthError(
                "invalid_token", "only service tokens are signed with the shared secret here; sign in with the provider"
            )
        exp = _lifetime(claims, self._service_cap if service else self._person_cap, service=service)
        jti = claims.get("jti")
        if jti is not None and (not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI):
            raise AuthError("invalid_token", "the token's jti must be a string of at most 200 characters")
        iss = claims.get("iss")
        issuer = None if ours else iss if isinstance(iss, str) else ""
        return claims, Verified(_subject(claims), jti, datetime.fromtimestamp(exp, UTC), service, issuer), jwk


def _kid(header: dict[str, Any]) -> str | None:
    kid = header.get("kid")
    return kid if isinstance(kid, str) else None


def _lifetime(claims: dict[str, Any], cap: int, *, service: bool) -> int:
    """The token's exp, after checking it is an integer (PyJWT takes "9999999999" and 1.5e9 alike) and that the
    token lives no longer than `cap` seconds, counted from its iat or from now, whichever is earlier."""
    exp, iat = claims.get("exp"), claims.get("iat")
    if type(exp) is not int:
        raise AuthError("invalid_token", f"the token's exp must be an integer NumericDate, not {type(exp).__name__}")
    if iat is not None and type(iat) is not int:
        raise AuthError("invalid_token", f"the token's iat must be an integer NumericDate, not {type(iat).__name__}")
    now = int(time.time())
    start = now if iat is None else min(iat, now)
    if exp - start > cap + LEEWAY_SECONDS:
        kind = "a service token" if service else "a person's token"
        raise AuthError(
            "token_lifetime_exceeded",
            f"the token lives {exp - start} s; {kind} may live at most {cap} s: get a shorter-lived one",
        )
    return exp


def _subject(claims: dict[str, Any]) -> str:
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise AuthError("invalid_token", "the token names no official (sub)")
    if not re.match(ID_PATTERN, sub):
        raise AuthError("invalid_token", "the token's sub is not an official's id")
    return sub
