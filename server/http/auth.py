"""HTTP callers: bearer token → company, subject and scopes.

Whatever verifies the token puts the company slug in `AccessToken.claims["company"]` and, when the
token names a person, their e-mail in `claims["user"]` (both read by
`server.calls.resolve_caller`) and the granted scopes in `AccessToken.scopes` (read by
`server.http.scopes`). Production verifies OAuth JWT access tokens (`server.http.oauth.JwtVerifier`); static
API keys are for development, and only when `OUTLAY_API_KEYS` configures them.
"""

from __future__ import annotations

import hashlib
import hmac

from mcp.server.auth.provider import AccessToken, TokenVerifier
from mcp.server.auth.settings import AuthSettings

from server.settings import Settings
from server.settings.auth import ADMIN_SCOPE, ALL_SCOPES, READ_SCOPE, WRITE_SCOPE, ApiKeyGrant

__all__ = ["ADMIN_SCOPE", "ALL_SCOPES", "READ_SCOPE", "WRITE_SCOPE", "ApiKeyVerifier", "bearer_auth"]


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiKeyVerifier(TokenVerifier):
    """Keys are configured as `{"<token>" or "sha256:<hex digest>": "<company slug>" or {"company": ...,
    "scopes": [...]}}`. Only digests are kept in memory, and they are compared in constant time.

    `resource` is the server's own URL: a key is issued by this server for this server."""

    def __init__(self, keys: dict[str, str | ApiKeyGrant], *, resource: str | None = None) -> None:
        self._resource = resource
        self._grants_by_digest = {
            (key.removeprefix("sha256:").lower() if key.startswith("sha256:") else token_digest(key)): (
                grant if isinstance(grant, ApiKeyGrant) else ApiKeyGrant(company=grant)
            )
            for key, grant in keys.items()
        }

    async def verify_token(self, token: str) -> AccessToken | None:
        digest = token_digest(token)
        for known, grant in self._grants_by_digest.items():
            if hmac.compare_digest(known, digest):
                return AccessToken(
                    token="<redacted>",  # noqa: S106 - the raw key is never kept on the principal
                    client_id=f"api-key:{digest[:12]}",
                    subject=f"api-key:{digest[:12]}",
                    scopes=list(grant.scopes),
                    resource=self._resource,
                    claims={"company": grant.company} | ({"user": grant.user} if grant.user else {}),
                )
        return None


class EitherVerifier(TokenVerifier):
    """OAuth and development keys side by side: a JWT (three dot-separated parts) goes to the JWT
    verifier only, anything else to the keys only, so neither can be used to probe the other."""

    def __init__(self, jwt: TokenVerifier, keys: ApiKeyVerifier) -> None:
        self._jwt = jwt
        self._keys = keys

    async def verify_token(self, token: str) -> AccessToken | None:
        verifier: TokenVerifier = self._jwt if token.count(".") == 2 else self._keys
        return await verifier.verify_token(token)


def resource_url(settings: Settings) -> str:
    """This server's canonical URL as an OAuth resource (RFC 8707, RFC 9728)."""
    return f"{settings.server_url}/mcp"


def bearer_auth(settings: Settings) -> tuple[TokenVerifier | None, AuthSettings | None]:
    """The verifier and the SDK's auth settings for HTTP; (None, None) serves no bearer auth at all
    (in-memory and stdio servers, which never see HTTP)."""
    resource = resource_url(settings)
    keys = ApiKeyVerifier(settings.api_keys, resource=resource) if settings.api_keys else None
    oauth = settings.oauth
    if oauth.issuer:
        # Only an OAuth server loads pyjwt and cryptography: stdio start-up is what a desktop user waits for.
        from server.http.oauth import JwtVerifier

        audience = oauth.audience or resource
        jwt = JwtVerifier(oauth, audience=audience)
        verifier: TokenVerifier = EitherVerifier(jwt, keys) if keys else jwt
        return verifier, _auth_settings(oauth.issuer, resource, validate_resource=audience == resource)
    if keys is None:
        return None, None
    # Static keys have no authorization server to point clients at: no protected-resource metadata is
    # served (a client would otherwise look for one at this server, which is none, and fail there). The
    # SDK wants an issuer all the same; without resource metadata it is published nowhere.
    return keys, AuthSettings.model_validate(
        {"issuer_url": settings.server_url, "resource_server_url": None, "required_scopes": [READ_SCOPE]}
    )


def _auth_settings(issuer: str, resource: str, *, validate_resource: bool) -> AuthSettings:
    # Validated from strings, so that the settings' own URL rules apply: a path-less issuer keeps its
    # exact spelling (no trailing slash), as clients compare it character by character (RFC 8414).
    return AuthSettings.model_validate(
        {
            "issuer_url": issuer,
            "resource_server_url": resource,
            "required_scopes": [READ_SCOPE],
            # With an audience other than the resource URL (some issuers use `api://...` names), the JWT
            # verifier has checked `aud` itself and the SDK's URL comparison cannot apply.
            "validate_token_resource": validate_resource,
        }
    )
