"""The OIDC provider as the web pages' sign-in sees it: its discovery document, the authorization request (code flow
with PKCE S256, state and nonce) and the exchange of the code at its token endpoint, over HTTP.

The ID token the exchange returns is verified by `api.auth.TokenVerifier.id_token_subject`, with the provider's keys.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import structlog

from infra.settings import Settings

log = structlog.get_logger(__name__)

DISCOVERY_TTL_SECONDS = 3600


class OidcError(Exception):
    """A step of the sign-in that failed: `code` says which (stable), `detail` why, in English."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Discovery:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    token_auth_methods: tuple[str, ...]


@dataclass(frozen=True)
class Attempt:
    """One sign-in's secrets, kept in the browser's short-lived HttpOnly cookie until the callback."""

    state: str
    nonce: str
    verifier: str  # PKCE code_verifier; the authorization request carries its S256 challenge

    @classmethod
    def new(cls) -> Attempt:
        return cls(secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48))

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class OidcProvider:
    def __init__(self, settings: Settings, *, client: httpx.AsyncClient) -> None:
        self.issuer = settings.oidc_issuer
        self.client_id = settings.oidc_client_id
        self._secret = settings.oidc_client_secret
        self.redirect_url = settings.oidc_redirect
        scopes = settings.oidc_scopes.split()
        self.scopes = " ".join(scopes if "openid" in scopes else ["openid", *scopes])
        self.name = settings.oidc_provider_name
        self._discovery_url = settings.oidc_discovery
        self._client = client
        self._found: Discovery | None = None
        self._found_at = 0.0
        self._lock = asyncio.Lock()

    async def discovery(self) -> Discovery:
        """The provider's endpoints, fetched once an hour; OidcError `provider_unavailable` when it cannot be read."""
        async with self._lock:
            if self._found is not None and time.monotonic() - self._found_at < DISCOVERY_TTL_SECONDS:
                return self._found
            try:
                resp = await self._client.get(self._discovery_url, timeout=5)
                resp.raise_for_status()
                doc = resp.json()
            except (httpx.HTTPError, ValueError) as exc:
                log.warning("oidc_discovery_failed", url=self._discovery_url, error=str(exc))
                why = f"the provider's discovery document cannot be read: {exc}"
                raise OidcError("provider_unavailable", why) from None
            self._found = _discovery(doc, self.issuer, self._discovery_url)
            self._found_at = time.monotonic()
            log.info("oidc_discovered", issuer=self._found.issuer)
            return self._found

    async def jwks_uri(self) -> str:
        return (await self.discovery()).jwks_uri

    async def authorize_url(self, attempt: Attempt) -> str:
        found = await self.discovery()
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": self.redirect_url,
                "scope": self.scopes,
                "state": attempt.state,
                "nonce": attempt.nonce,
                "code_challenge": attempt.challenge,
                "code_challenge_method": "S256",
            }
        )
        sep = "&" if "?" in found.authorization_endpoint else "?"
        return f"{found.authorization_endpoint}{sep}{query}"

    async def exchange(self, code: str, attempt: Attempt) -> str:
        """The ID token the token endpoint gives for `code`; OidcError `token_exchange_failed` naming why not."""
        found = await self.discovery()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_url,
            "code_verifier": attempt.verifier,
        }
        auth: httpx.Auth | httpx._client.UseClientDefault = httpx.USE_CLIENT_DEFAULT
        if not self._secret:
            form["client_id"] = self.client_id  # a public client: PKCE alone
        elif "client_secret_basic" in found.token_auth_methods or "client_secret_post" not in found.token_auth_methods:
            auth = httpx.BasicAuth(self.client_id, self._secret)
        else:
            form |= {"client_id": self.client_id, "client_secret": self._secret}
        try:
            resp = await self._client.post(
                found.token_endpoint, data=form, auth=auth, headers={"Accept": "application/json"}, timeout=10
            )
        except httpx.HTTPError as exc:
            raise OidcError("token_exchange_failed", f"the token endpoint cannot be reached: {exc}") from None
        body = _json(resp)
        if resp.status_code != 200:
            said = " ".join(str(body.get(k, "")) for k in ("error", "error_description")).strip()
            answered = f"the token endpoint answered {resp.status_code}" + (f": {said}" if said else "")
            raise OidcError("token_exchange_failed", answered)
        id_token = body.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise OidcError("token_exchange_failed", "the token endpoint's answer carries no id_token")
        return id_token


def _json(resp: httpx.Response) -> dict[str, Any]:
    try:
        body = resp.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _discovery(doc: Any, issuer: str, url: str) -> Discovery:
    if not isinstance(doc, dict):
        raise OidcError("provider_unavailable", f"{url} is not a discovery document")
    missing = [k for k in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri") if not doc.get(k)]
    if missing:
        raise OidcError("provider_unavailable", f"the discovery document lacks {', '.join(missing)}")
    if doc["issuer"] != issuer:
        raise OidcError(
            "provider_unavailable", f"the discovery document names issuer {doc['issuer']!r}, not {issuer!r}"
        )
    methods = doc.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    return Discovery(
        issuer=str(doc["issuer"]),
        authorization_endpoint=str(doc["authorization_endpoint"]),
        token_endpoint=str(doc["token_endpoint"]),
        jwks_uri=str(doc["jwks_uri"]),
        token_auth_methods=tuple(str(m) for m in methods),
    )
