"""HTTP callers: bearer token → company. The development mode maps static API keys from settings.

This is the seam where an OAuth JWT verifier plugs in later: whatever verifies the token puts the
company slug in `AccessToken.claims["company"]`, and `server.calls.resolve_caller` reads it.
"""

from __future__ import annotations

import hashlib
import hmac

from mcp.server.auth.provider import AccessToken, TokenVerifier

READ_SCOPE = "spend:read"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiKeyVerifier(TokenVerifier):
    """Keys are configured as `{"<token>" or "sha256:<hex digest>": "<company slug>"}`.

    Only digests are kept in memory, and they are compared in constant time.
    """

    def __init__(self, keys: dict[str, str]) -> None:
        self._companies_by_digest = {
            (key.removeprefix("sha256:").lower() if key.startswith("sha256:") else token_digest(key)): slug
            for key, slug in keys.items()
        }

    async def verify_token(self, token: str) -> AccessToken | None:
        digest = token_digest(token)
        for known, slug in self._companies_by_digest.items():
            if hmac.compare_digest(known, digest):
                return AccessToken(
                    token="<redacted>",  # noqa: S106 - the raw key is never kept on the principal
                    client_id=f"api-key:{digest[:12]}",
                    subject=f"api-key:{digest[:12]}",
                    scopes=[READ_SCOPE],
                    claims={"company": slug},
                )
        return None
