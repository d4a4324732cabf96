"""Gateway configuration, nested in `server.settings.Settings` as `gateway`: every field is an
`OUTLAY_GATEWAY__<FIELD>` environment variable (e.g. `OUTLAY_GATEWAY__PROVIDER=bedrock`)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, Field, PositiveFloat, PositiveInt, SecretStr, field_validator, model_validator

# The repository's (or the installed wheel's) `prompts/templates`: siblings of the `server` package.
DEFAULT_PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts" / "templates"


class ModelPrice(BaseModel):
    """USD per million tokens."""

    input: Decimal
    output: Decimal


def default_prices() -> dict[str, ModelPrice]:
    # List prices when this was written: check them against the provider's price list, and override
    # with OUTLAY_GATEWAY__PRICES. Keys match any model id that contains them, so that Bedrock ids
    # ("eu.anthropic.claude-haiku-4-5-20251001-v1:0") find their price too; the longest key wins.
    return {
        "claude-haiku-4-5": ModelPrice(input=Decimal("1"), output=Decimal("5")),
        "claude-sonnet-4-5": ModelPrice(input=Decimal("3"), output=Decimal("15")),
        "claude-sonnet-4-6": ModelPrice(input=Decimal("3"), output=Decimal("15")),
        "claude-opus-4-5": ModelPrice(input=Decimal("5"), output=Decimal("25")),
        "claude-opus-4-6": ModelPrice(input=Decimal("5"), output=Decimal("25")),
    }


class GatewaySettings(BaseModel):
    provider: Literal["none", "anthropic", "bedrock"] = Field(
        default="none",
        description="LLM provider; `none`: every LLM call is 'unavailable' and callers degrade.",
    )
    model: str = Field(default="claude-haiku-4-5", description="Model id as the provider names it.")
    max_tokens: PositiveInt = Field(default=1024, description="Most tokens one answer may take.")
    anthropic_api_key: SecretStr | None = Field(
        default=None, repr=False, description="Anthropic API key (default: the SDK's ANTHROPIC_API_KEY)."
    )
    base_url: str | None = Field(
        default=None, description="Override the provider endpoint (a proxy, a VPC endpoint, a fake)."
    )
    bedrock_region: str | None = Field(
        default=None, description="AWS region for Bedrock (default: boto3's chain, e.g. AWS_REGION)."
    )
    bedrock_profile: str | None = Field(
        default=None, description="AWS profile for Bedrock (default: boto3's standard credential chain)."
    )
    deadline_seconds: PositiveFloat = Field(
        default=15.0, description="Longest a caller waits for one model call, retries and repair included."
    )
    attempt_timeout_seconds: PositiveFloat = Field(default=8.0, description="Longest one HTTP attempt.")
    connect_timeout_seconds: PositiveFloat = Field(default=2.0, description="Longest a TCP/TLS connect.")
    max_attempts: PositiveInt = Field(default=3, description="Attempts per request, the first included.")
    backoff_base_seconds: PositiveFloat = Field(
        default=0.5, description="Full-jitter backoff: attempt n waits U(0, min(max, base * 2^(n-1)))."
    )
    backoff_max_seconds: PositiveFloat = Field(default=8.0, description="Cap of the backoff window.")
    breaker_failures: PositiveInt = Field(
        default=5, description="Consecutive failed attempts that open a provider's circuit."
    )
    breaker_cooldown_seconds: PositiveFloat = Field(
        default=30.0, description="How long an open circuit waits before letting one probe through."
    )
    max_concurrency: PositiveInt = Field(
        default=8, description="Requests in flight per provider; more wait (within their deadline)."
    )
    daily_token_budget: PositiveInt | None = Field(
        default=2_000_000, description="LLM tokens (in + out) per company per UTC day; `none`: no limit."
    )
    cache_ttl_seconds: float = Field(
        default=3600.0, ge=0, description="How long an LLM answer is reused for the same question; 0: off."
    )
    cache_max_entries: PositiveInt = Field(default=10_000, description="Answers kept in the cache.")
    prices: dict[str, ModelPrice] = Field(
        default_factory=default_prices,
        description='USD per million tokens by model id: {"<model>": {"input": "1", "output": "5"}}.',
    )
    prompts_dir: Path = Field(default=DEFAULT_PROMPTS_DIR, description="Where LLM prompt templates live.")
    serving_url: str | None = Field(
        default=None, description="Base URL of a KServe v2 model server; empty: remote models unavailable."
    )
    serving_max_connections: PositiveInt = Field(default=20, description="Pooled connections to it.")

    @field_validator(
        "anthropic_api_key",
        "base_url",
        "bedrock_region",
        "bedrock_profile",
        "serving_url",
        "daily_token_budget",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """`OUTLAY_GATEWAY__SERVING_URL=` (or `none`) unsets a value, as an environment variable can."""
        return None if isinstance(value, str) and value.strip().lower() in {"", "none"} else value

    @model_validator(mode="after")
    def _attempt_fits_deadline(self) -> Self:
        if self.attempt_timeout_seconds > self.deadline_seconds:
            raise ValueError("attempt_timeout_seconds must not exceed deadline_seconds")
        return self
