"""Authentication configuration, kept free of the SDK so that reading settings stays cheap: the OAuth
resource server (`OUTLAY_OAUTH__<FIELD>`), development API keys, and the scopes both grant."""

from __future__ import annotations

from typing import Final, Literal

from pydantic import BaseModel, Field, field_validator

Scope = Literal["spend:read", "spend:write", "spend:admin"]
READ_SCOPE: Final = "spend:read"
WRITE_SCOPE: Final = "spend:write"
ADMIN_SCOPE: Final = "spend:admin"
ALL_SCOPES: tuple[Scope, ...] = (READ_SCOPE, WRITE_SCOPE, ADMIN_SCOPE)
DEVELOPER_SCOPES: tuple[Scope, ...] = (READ_SCOPE, WRITE_SCOPE)

# Only public-key signatures: with a symmetric algorithm allowed, anyone holding the issuer's *public*
# key could sign tokens (the HS256-with-public-key confusion), and `none` signs nothing at all.
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)


class ApiKeyGrant(BaseModel):
    """A development key's company and scopes (a key given as just a slug reads and writes)."""

    company: str
    scopes: list[Scope] = Field(default_factory=lambda: list(DEVELOPER_SCOPES))
    user: str | None = Field(
        default=None,
        description="E-mail of the one employee the key acts as (who files and decides approval "
        "requests); without it the key reads and suggests but never decides.",
    )


class OAuthSettings(BaseModel):
    """JWT access tokens from an OAuth 2.1 authorization server; on when `issuer` is set."""

    issuer: str | None = Field(
        default=None,
        description="The authorization server's issuer (`iss`, exact); set, it turns on JWT access tokens.",
    )
    audience: str | None = Field(
        default=None,
        description="The `aud` tokens must carry (RFC 8707 resource). Default: this server's URL + /mcp.",
    )
    jwks_url: str | None = Field(
        default=None, description="The issuer's JWKS. Default: `jwks_uri` from the issuer's metadata."
    )
    algorithms: list[str] = Field(
        default_factory=lambda: ["RS256", "ES256"],
        description="Signature algorithms accepted (asymmetric only: HS* and none are refused).",
    )
    leeway_seconds: int = Field(default=30, ge=0, le=300, description="Clock skew allowed on exp/nbf/iat.")
    company_claim: str = Field(default="company", description="The claim that names the company slug.")
    user_claim: str = Field(
        default="email",
        description="The claim holding the e-mail of the employee behind the token (who may decide "
        "approval requests); a token without it reads and suggests but never decides.",
    )
    jwks_cache_seconds: int = Field(default=3600, ge=1, description="How long fetched keys are trusted.")
    jwks_refresh_seconds: int = Field(
        default=60,
        ge=0,
        description="Least time between refetches for an unknown `kid` (or after a failed fetch), so a "
        "flood of forged key ids cannot hammer the issuer.",
    )

    @field_validator("algorithms")
    @classmethod
    def _asymmetric_only(cls, algorithms: list[str]) -> list[str]:
        refused = sorted(set(algorithms) - ASYMMETRIC_ALGORITHMS)
        if refused:
            raise ValueError(f"not an asymmetric JWT algorithm: {', '.join(refused)}")
        if not algorithms:
            raise ValueError("at least one algorithm is needed")
        return algorithms

    @property
    def enabled(self) -> bool:
        return bool(self.issuer)
