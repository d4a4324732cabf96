"""The OAuth 2.1 resource server: JWT access tokens checked against the issuer's published keys.

A token is accepted only if its header names an allowed asymmetric algorithm and a key of the issuer's
JWKS of the matching type, its signature verifies, `iss` is the issuer, `aud` holds this server's
audience (RFC 8707), `exp`/`nbf` hold within the leeway, and it names a company. Anything else is
`None`, which the SDK answers with 401 and `WWW-Authenticate`; the reason is logged, never the token.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx
import jwt
from mcp.server.auth.provider import AccessToken, TokenVerifier

from server.settings.auth import OAuthSettings

log = logging.getLogger("outlay.oauth")

FETCH_TIMEOUT_SECONDS = 5.0
# Which JWK key type can verify which algorithm family: a token cannot pick a key of another kind.
_KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}

Fetch = Callable[[str], Awaitable[Mapping[str, Any]]]


@dataclass(frozen=True)
class SigningKey:
    jwk: jwt.PyJWK
    declared_algorithm: str | None  # the JWK's own `alg`, when the issuer pins one

    def check_fits(self, algorithm: str) -> None:
        if self.declared_algorithm is not None and self.declared_algorithm != algorithm:
            raise TokenRefused(f"key {self.jwk.key_id!r} is for {self.declared_algorithm}, not {algorithm}")
        if self.jwk.key_type != _KEY_TYPES.get(algorithm[:2]):
            raise TokenRefused(f"key {self.jwk.key_id!r} ({self.jwk.key_type}) cannot verify {algorithm}")


class TokenRefused(Exception):
    """Why a token was refused, for the log (the client only ever sees 401)."""


async def fetch_json(url: str) -> Mapping[str, Any]:
    async with httpx.AsyncClient(timeout=FETCH_TIMEOUT_SECONDS, follow_redirects=False) as client:
        response = await client.get(url, headers={"Accept": "application/json"})
        response.raise_for_status()
        data = response.json()
    if not isinstance(data, Mapping):
        raise ValueError(f"{url} did not answer a JSON object")
    return data


def metadata_urls(issuer: str) -> list[str]:
    """OpenID discovery first, then RFC 8414 (whose well-known part goes before the issuer's path)."""
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")
    return [
        f"{issuer.rstrip('/')}/.well-known/openid-configuration",
        f"{parts.scheme}://{parts.netloc}/.well-known/oauth-authorization-server{path}",
    ]


class JwksCache:
    """The issuer's signing keys by `kid`: fetched on first use, again when older than
    `jwks_cache_seconds`, and on an unknown `kid` (key rotation) at most once per `jwks_refresh_seconds`;
    a failed fetch keeps the old keys."""

    def __init__(
        self,
        settings: OAuthSettings,
        *,
        fetch: Fetch = fetch_json,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._fetch = fetch
        self._clock = clock
        self._keys: dict[str, SigningKey] = {}
        self._next_refresh = 0.0  # due at once
        self._next_forced = 0.0
        self._lock = anyio.Lock()

    async def key(self, kid: str | None) -> SigningKey | None:
        # While one request refreshes keys that are merely old, the others go on with them rather than
        # queue behind a slow issuer.
        if self._clock() >= self._next_refresh and not (self._keys and self._lock.locked()):
            await self._refresh(forced=False)
        found = self._lookup(kid)
        if found is None and self._clock() >= self._next_forced:
            await self._refresh(forced=True)
            found = self._lookup(kid)
        return found

    def _lookup(self, kid: str | None) -> SigningKey | None:
        if kid is None:
            # A token without `kid` can only mean the issuer's one key.
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)

    async def _refresh(self, *, forced: bool) -> None:
        async with self._lock:
            now = self._clock()
            due = self._next_forced if forced else self._next_refresh
            if now < due:  # someone else refreshed while this one waited
                return
            if forced:
                self._next_forced = now + self._settings.jwks_refresh_seconds
            try:
                self._keys = await self._load()
            except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
                self._next_refresh = now + self._settings.jwks_refresh_seconds
                log.warning("JWKS fetch failed", extra={"error": type(exc).__name__, "detail": str(exc)})
                return
            self._next_refresh = now + self._settings.jwks_cache_seconds

    async def _load(self) -> dict[str, SigningKey]:
        url = self._settings.jwks_url or await self._discover_jwks_url()
        document = await self._fetch(url)
        keys: dict[str, SigningKey] = {}
        for entry in document.get("keys") or []:
            if not isinstance(entry, Mapping) or entry.get("use", "sig") != "sig":
                continue
            try:
                jwk = jwt.PyJWK(dict(entry))
            except jwt.PyJWTError:
                continue  # a key type this server cannot use; the others still count
            keys[str(entry.get("kid", ""))] = SigningKey(jwk, entry.get("alg"))
        if not keys:
            raise ValueError(f"{url} holds no usable signing key")
        return keys

    async def _discover_jwks_url(self) -> str:
        issuer = str(self._settings.issuer)
        for url in metadata_urls(issuer):
            try:
                metadata = await self._fetch(url)
            except httpx.HTTPStatusError:
                continue
            if metadata.get("issuer") != issuer:
                raise ValueError(f"{url} names issuer {metadata.get('issuer')!r}, not {issuer!r}")
            jwks_uri = metadata.get("jwks_uri")
            if not isinstance(jwks_uri, str):
                raise ValueError(f"{url} names no jwks_uri")
            return jwks_uri
        raise ValueError(f"no authorization server metadata for {issuer}")


class JwtVerifier(TokenVerifier):
    def __init__(self, settings: OAuthSettings, *, audience: str, keys: JwksCache | None = None) -> None:
        if not settings.issuer:
            raise ValueError("OAuth needs an issuer (OUTLAY_OAUTH__ISSUER)")
        self._settings = settings
        self._issuer = settings.issuer
        self._audience = audience
        self._keys = keys or JwksCache(settings)

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            claims = await self.decode(token)
            return self._access_token(claims)
        except (TokenRefused, jwt.PyJWTError) as exc:
            log.info("bearer token refused", extra={"reason": f"{type(exc).__name__}: {exc}"})
            return None

    async def decode(self, token: str) -> dict[str, Any]:
        header = jwt.get_unverified_header(token)
        algorithm = str(header.get("alg"))
        if algorithm not in self._settings.algorithms:
            raise TokenRefused(f"algorithm {algorithm!r} is not allowed")
        kid = header.get("kid")  # PyJWT has refused a kid that is not a string
        key = await self._keys.key(kid)
        if key is None:
            raise TokenRefused(f"no key {kid!r} in the issuer's JWKS")
        key.check_fits(algorithm)
        claims: dict[str, Any] = jwt.decode(
            token,
            key=key.jwk.key,
            algorithms=[algorithm],
            audience=self._audience,
            issuer=self._issuer,
            leeway=self._settings.leeway_seconds,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
        return claims

    def _access_token(self, claims: Mapping[str, Any]) -> AccessToken:
        company = claims.get(self._settings.company_claim)
        if not isinstance(company, str) or not company:
            raise TokenRefused(f"no {self._settings.company_claim!r} claim")
        subject = str(claims["sub"])
        user = claims.get(self._settings.user_claim)
        named = {"user": user} if isinstance(user, str) and user.strip() else {}
        return AccessToken(
            token="<redacted>",  # noqa: S106 - the bearer token is never kept on the principal
            client_id=str(claims.get("client_id") or claims.get("azp") or subject),
            subject=subject,
            scopes=token_scopes(claims),
            # The SDK refuses a token past `expires_at` on its own: it must see the same leeway as above.
            expires_at=int(claims["exp"]) + self._settings.leeway_seconds,
            resource=self._audience,  # checked above; the SDK compares it with the resource URL again
            claims={"company": company, "iss": claims["iss"]} | named,
        )


def token_scopes(claims: Mapping[str, Any]) -> list[str]:
    """RFC 9068 `scope` (space-separated), or the `scp` list some issuers send instead."""
    scope = claims.get("scope", claims.get("scp", ""))
    if isinstance(scope, str):
        return scope.split()
    return [item for item in scope if isinstance(item, str)] if isinstance(scope, list) else []
