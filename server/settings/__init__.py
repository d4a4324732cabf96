"""Runtime configuration: every knob is an `OUTLAY_*` environment variable (or a `.env` file)."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from server.settings.auth import ApiKeyGrant, OAuthSettings
from server.settings.gateway import GatewaySettings
from server.settings.jobs import JobSettings
from server.settings.operations import RateLimitSettings, TelemetrySettings

_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def default_database_url() -> str:
    from platformdirs import user_data_path  # here: with OUTLAY_DATABASE_URL set, start-up does without it

    data_dir = user_data_path("outlay", appauthor=False)
    return f"sqlite+aiosqlite:///{data_dir / 'outlay.db'}"


class Settings(BaseSettings):
    # "__" reaches into nested settings: OUTLAY_GATEWAY__PROVIDER=bedrock sets gateway.provider.
    model_config = SettingsConfigDict(
        env_prefix="OUTLAY_", env_file=".env", extra="ignore", env_nested_delimiter="__"
    )

    database_url: str = Field(
        default_factory=default_database_url,
        description="SQLAlchemy async URL: sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB.",
    )
    company: str | None = Field(
        default=None,
        description="Company slug served over stdio (and to in-memory clients). Default: the only company.",
    )
    user: str | None = Field(
        default=None,
        description="E-mail of the person using the server over stdio (and in-memory): the employee who "
        "files and decides approval requests. Unset: the caller may read and suggest but not decide.",
    )
    today: dt.date | None = Field(
        default=None, description="Pin 'today' (YYYY-MM-DD) for deterministic demos and evals."
    )
    api_keys: dict[str, str | ApiKeyGrant] = Field(
        default_factory=dict,
        repr=False,
        description='Development HTTP bearer tokens as JSON {"<token>" or "sha256:<hex>": "<company-slug>"} '
        '(read and write) or {"company": "<slug>", "scopes": ["spend:read"]}. Off unless set.',
    )
    oauth: OAuthSettings = Field(
        default_factory=OAuthSettings,
        description="OAuth resource server: OUTLAY_OAUTH__<FIELD> variables (ISSUER turns it on).",
    )
    cursor_secret: SecretStr = Field(
        default_factory=lambda: SecretStr(secrets.token_urlsafe(32)),
        description="Signs pagination cursors. Set the same value on every replica behind a balancer.",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = Field(
        default=None, description="Canonical URL of this server (defaults to http://HOST:PORT)."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["auto", "json", "text"] = Field(
        default="auto", description="json, text (`level logger: message key=value`), or auto: text on a TTY"
    )
    gateway: GatewaySettings = Field(
        default_factory=GatewaySettings,
        description="LLM and model serving: OUTLAY_GATEWAY__<FIELD> variables, see docs/model-gateway.md.",
    )
    categorize_model: Literal["local", "remote"] = Field(
        default="local",
        description="Where the categorizer's company model runs: in process, or on the model server "
        "(OUTLAY_GATEWAY__SERVING_URL, e.g. `outlay model serve`), with the in-process model as fallback.",
    )
    categorize_llm_calls: int = Field(
        default=20,
        ge=0,
        description="Most LLM questions one categorize call asks (unsure answers beyond it stay for review).",
    )
    rate_limit: RateLimitSettings = Field(
        default_factory=RateLimitSettings,
        description="Per-caller abuse limits on /mcp: OUTLAY_RATE_LIMIT__<FIELD>, see docs/operations.md.",
    )
    redis_url: SecretStr | None = Field(
        default=None,
        repr=False,
        description="redis://[:PASSWORD@]HOST:PORT/DB shared by every replica: rate limits, concurrency "
        "slots, the LLM token budget and the answer cache count across replicas. Unset: in process.",
    )
    redis_prefix: str = Field(
        default="outlay",
        pattern=r"^[A-Za-z0-9_.:-]{1,64}$",
        description="Prefix of every Redis key: deployments (or tests) sharing one Redis keep apart.",
    )
    redis_timeout_seconds: float = Field(
        default=0.25,
        gt=0,
        description="Longest one Redis command (or connect) may take before it counts as unreachable.",
    )
    otel: TelemetrySettings = Field(
        default_factory=TelemetrySettings,
        description="Trace export: OUTLAY_OTEL__ENDPOINT (OTLP/HTTP) and OUTLAY_OTEL__SERVICE_NAME.",
    )
    jobs: JobSettings = Field(
        default_factory=JobSettings,
        description="The job queue for long work: OUTLAY_JOBS__<FIELD> variables, see docs/jobs.md.",
    )
    request_state_keys: list[SecretStr] = Field(
        default_factory=list,
        repr=False,
        description="Keys (32+ characters, JSON list) sealing the SDK's requestState; the same on every "
        "replica. Empty: a per-process key, for a single replica.",
    )
    shutdown_grace_seconds: int = Field(
        default=20, ge=0, description="On SIGTERM, how long in-flight HTTP calls may take to finish."
    )
    demo_dir: Path | None = Field(
        default=None, description="Where `outlay demo` writes its CSV folder (default: next to the data)."
    )
    tenant_role: str = Field(
        default="outlay_tenant",
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="PostgreSQL role tool calls run as, under row-level security; set it before "
        "`outlay db upgrade`, whose policies name it (docs/operations.md#tenant-isolation).",
    )
    statement_timeout_ms: int = Field(
        default=5000,
        ge=0,
        description="PostgreSQL: longest one statement of a tool call may run (0: no limit).",
    )
    review_cache_entries: int = Field(
        default=8,
        ge=0,
        description="review_expenses: how many reviews' findings are kept (5 minutes at most) so that their "
        "later pages are not reviewed again (0: none; docs/review.md#findings-cache).",
    )
    read_retry_seconds: float = Field(
        default=3.0,
        ge=0,
        description="HTTP: how long a read-only tool call that found the database away is tried again, "
        "counted from its first failure and never longer than the statement timeout (0: not retried).",
    )

    @field_validator("redis_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """`OUTLAY_REDIS_URL=` unsets it, as an environment variable can."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("redis_url")
    @classmethod
    def _a_redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(_REDIS_SCHEMES):
            raise ValueError("must start with redis://, rediss:// (TLS) or unix://")
        return value

    @property
    def read_retry_budget(self) -> float:
        """`read_retry_seconds`, bounded by the statement timeout: a call waits for the database no longer
        than one of its statements may run."""
        if self.statement_timeout_ms <= 0:
            return self.read_retry_seconds
        return min(self.read_retry_seconds, self.statement_timeout_ms / 1000)

    @property
    def server_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"
