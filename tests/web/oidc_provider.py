"""A small OpenID Connect provider over real HTTP on 127.0.0.1, for the web sign-in tests: a discovery document,
`/authorize` that signs in the configured subject at once and sends the browser back with a code (or with an error),
`/token` that checks the client's secret, the redirect URI and the PKCE verifier and answers with an RS256 ID token
carrying the nonce (and a jti), and `/jwks` with the RSA key made when the provider starts. `issued` keeps every ID
token it handed out.

`misbehave` makes the next ID tokens wrong in one way (`wrong_nonce`, `wrong_audience`, `expired`, `unpublished_key`,
`long_lived` (a week), `no_id_token`); `token_error` makes the token endpoint refuse; `deny` makes `/authorize`
answer `access_denied`."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.loopback import JsonHandler, serve_in_thread

CLIENT_ID = "xptt-web"
CLIENT_SECRET = "client-secret-" + "z" * 24


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Grant:
    subject: str
    nonce: str
    challenge: str
    redirect_uri: str


@dataclass
class Provider:
    redirect_uri: str = ""  # the one registered for CLIENT_ID; set before the first sign-in
    subject: str = "demo-officer-11953"
    deny: bool = False
    token_error: str | None = None
    misbehave: str | None = None
    grants: dict[str, Grant] = field(default_factory=dict)
    seen: list[dict[str, str]] = field(default_factory=list)  # every request to /token, as received
    bad_requests: list[dict[str, str]] = field(default_factory=list)  # authorization requests it refused
    issued: list[str] = field(default_factory=list)  # every ID token it handed out
    key: rsa.RSAPrivateKey = field(default_factory=lambda: rsa_key())

    def start(self) -> Provider:
        outer = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/.well-known/openid-configuration":
                    self.send_json(200, outer.discovery())
                elif url.path == "/jwks":
                    jwk = RSAAlgorithm.to_jwk(outer.key.public_key(), as_dict=True)
                    self.send_json(200, {"keys": [{**jwk, "kid": "k1", "alg": "RS256", "use": "sig"}]})
                elif url.path == "/authorize":
                    location = outer.authorize(query)
                    if location is None:
                        self.send_json(400, {"error": "invalid_request"})  # a real provider shows its own error page
                    else:
                        self._redirect(location)
                else:
                    self.send_json(404, {"error": "not_found"})

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if urlsplit(self.path).path != "/token":
                    self.send_json(404, {"error": "not_found"})
                    return
                status, body = outer.token(form, self.headers.get("authorization", ""))
                self.send_json(status, body)

            def _redirect(self, location: str) -> None:
                self.send_response(302)
                self.send_header("location", location)
                self.send_header("content-length", "0")
                self.end_headers()

        self.server = serve_in_thread(Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        }

    def authorize(self, q: dict[str, str]) -> str | None:
        """Where /authorize sends the browser: back to the client with a code, or with the error it asks for;
        None (and the request kept in `bad_requests`) for a request a provider would not take."""
        redirect = q.get("redirect_uri", "")
        if (
            q.get("client_id") != CLIENT_ID
            or redirect != self.redirect_uri
            or q.get("response_type") != "code"
            or "openid" not in q.get("scope", "").split()
            or q.get("code_challenge_method") != "S256"
            or not q.get("code_challenge")
            or not q.get("nonce")
            or not q.get("state")
        ):
            self.bad_requests.append(q)
            return None
        if self.deny:
            back = {"error": "access_denied", "error_description": "the user cancelled", "state": q.get("state", "")}
            return f"{redirect}?{urlencode(back)}"
        code = secrets.token_urlsafe(16)
        self.grants[code] = Grant(self.subject, q["nonce"], q["code_challenge"], redirect)
        return f"{redirect}?{urlencode({'code': code, 'state': q.get('state', '')})}"

    def token(self, form: dict[str, str], authorization: str) -> tuple[int, dict[str, Any]]:
        self.seen.append(form)
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if authorization != expected:
            return 401, {"error": "invalid_client"}
        if self.token_error:
            return 400, {"error": self.token_error, "error_description": "refused by the provider"}
        grant = self.grants.pop(form.get("code", ""), None)  # a code is good once
        if grant is None or form.get("grant_type") != "authorization_code":
            return 400, {"error": "invalid_grant"}
        if form.get("redirect_uri") != grant.redirect_uri:
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri differs"}
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge != grant.challenge:
            return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        body: dict[str, Any] = {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 300}
        if self.misbehave != "no_id_token":
            body["id_token"] = self.id_token(grant)
        return 200, body

    def id_token(self, grant: Grant) -> str:
        now = datetime.now(UTC)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": grant.subject,
            "aud": CLIENT_ID,
            "nonce": grant.nonce,
            "iat": now,
            "exp": now + timedelta(minutes=10),
            "jti": secrets.token_hex(12),
        }
        key: Any = self.key
        match self.misbehave:
            case "wrong_nonce":
                claims["nonce"] = "another-sign-in"
            case "wrong_audience":
                claims["aud"] = "another-client"
            case "expired":
                claims |= {"iat": now - timedelta(hours=2), "exp": now - timedelta(hours=1)}
            case "unpublished_key":
                key = rsa_key()
            case "long_lived":
                claims["exp"] = now + timedelta(days=7)
        token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
        self.issued.append(token)
        return token
