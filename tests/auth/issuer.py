"""A fake OAuth authorization server: signing keys, its JWKS and OpenID metadata (as a Starlette app
for loopback, or as a `fetch` function for the verifier without HTTP), and tokens good or forged."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

import anyio
import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
AUDIENCE = "https://outlay.example/mcp"

# Generating RSA keys costs tens of milliseconds: every test shares these.
_RSA_KEYS: dict[str, rsa.RSAPrivateKey] = {}


def rsa_key(name: str) -> rsa.RSAPrivateKey:
    if name not in _RSA_KEYS:
        _RSA_KEYS[name] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _RSA_KEYS[name]


class FakeIssuer:
    def __init__(self, url: str = "https://issuer.example") -> None:
        self.url = url
        self.keys: dict[str, PrivateKey] = {}
        self.published: list[str] = []
        self.jwks_requests = 0
        self.metadata_requests = 0
        self.failing = False
        self.stall: anyio.Event | None = None  # fetches wait for it, as on a slow issuer

    def add_key(self, kid: str, *, kind: str = "RSA", publish: bool = True) -> None:
        self.keys[kid] = rsa_key(kid) if kind == "RSA" else ec.generate_private_key(ec.SECP256R1())
        if publish:
            self.published.append(kid)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.public_jwk(kid) for kid in self.published]}

    def public_jwk(self, kid: str) -> dict[str, Any]:
        key = self.keys[kid]
        if isinstance(key, rsa.RSAPrivateKey):
            jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        else:
            jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
        return {**jwk, "kid": kid, "use": "sig"}

    def metadata(self) -> dict[str, Any]:
        return {"issuer": self.url, "jwks_uri": f"{self.url}/jwks.json"}

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "iss": self.url,
            "aud": AUDIENCE,
            "sub": "user-1",
            "company": "acme",
            "scope": "spend:read",
            "iat": now,
            "exp": now + 300,
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def token(
        self,
        kid: str = "k1",
        *,
        algorithm: str | None = None,
        header: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        """Signed with key `kid`; `header` overrides what the header says (None drops an entry)."""
        key = self.keys[kid]
        algorithm = algorithm or ("RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256")
        headers = {name: value for name, value in {"kid": kid, **(header or {})}.items() if value is not None}
        return jwt.encode(self.claims(**claims), key, algorithm=algorithm, headers=headers)

    def unsigned_token(self, kid: str = "k1", **claims: Any) -> str:
        return f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{_b64(self.claims(**claims))}."

    def hs256_with_public_key(self, kid: str = "k1", **claims: Any) -> str:
        """The key-confusion forgery: HMAC keyed with the issuer's public key PEM, which anyone has.
        (PyJWT refuses to sign this way, so it is assembled by hand.)"""
        public_pem = (
            self.keys[kid]
            .public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
        header = _b64({"alg": "HS256", "typ": "JWT", "kid": kid})
        payload = _b64(self.claims(**claims))
        signature = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        return f"{header}.{payload}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"

    async def fetch(self, url: str) -> Mapping[str, Any]:
        """The verifier's `fetch`, without HTTP."""
        if self.stall is not None:
            await self.stall.wait()
        document = self._document(url.removeprefix(self.url))
        if document is None:
            request = httpx.Request("GET", url)
            raise httpx.HTTPStatusError("unavailable", request=request, response=httpx.Response(503))
        return document

    def _document(self, path: str) -> dict[str, Any] | None:
        if self.failing:
            return None
        if path == "/jwks.json":
            self.jwks_requests += 1
            return self.jwks()
        if path == "/.well-known/openid-configuration":
            self.metadata_requests += 1
            return self.metadata()
        return None

    def app(self) -> Starlette:
        async def serve(request: Request) -> Response:
            document = self._document(request.url.path)
            return JSONResponse(document) if document is not None else JSONResponse({}, status_code=503)

        paths = ["/jwks.json", "/.well-known/openid-configuration"]
        return Starlette(routes=[Route(path, serve) for path in paths])


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
