"""The results file of a conversation run (`outlay eval run`): a stable JSON schema, versioned by
`schema`. Reports and the regression gate read only this file, so any run can be re-reported or
compared later. Add fields freely; renaming or removing one needs a new schema version."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

SCHEMA = "outlay.eval.conversations/1"


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"  # the agent did something wrong: a check failed
    ERROR = "error"  # infrastructure: the trial could not run, says nothing about the agent


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CheckResult(Record):
    check: str  # what was expected, in words: "calls summarize_spend with period=2026-Q3"
    passed: bool
    detail: str = ""  # on failure: what was seen instead


class CallSummary(Record):
    tool: str
    arguments: dict[str, object]
    is_error: bool
    latency_ms: float


class TrialResult(Record):
    trial: int
    outcome: Outcome
    checks: list[CheckResult] = Field(default_factory=list)
    error: str | None = None  # for Outcome.ERROR: what broke
    latency_ms: float  # wall time of the whole conversation
    calls: list[CallSummary] = Field(default_factory=list)
    final_answer: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    model_calls: int = 0

    @property
    def failures(self) -> list[CheckResult]:
        return [check for check in self.checks if not check.passed]


class ScenarioResult(Record):
    id: str
    title: str
    tags: list[str]
    trials: list[TrialResult]
    pass_hat_k: dict[int, float]  # k → pass^k for this scenario (C(successes, k) / C(trials, k))
    pass_at_k: dict[int, float]

    @property
    def successes(self) -> int:
        return sum(trial.outcome is Outcome.PASSED for trial in self.trials)

    @property
    def counted(self) -> list[TrialResult]:
        """Trials that ran (infrastructure errors are left out of pass rates and reported apart)."""
        return [trial for trial in self.trials if trial.outcome is not Outcome.ERROR]


class TagSummary(Record):
    scenarios: int
    pass_hat_k: dict[int, float]


class Summary(Record):
    scenarios: int
    trials: int  # per scenario
    passed: int  # trials
    failed: int
    errors: int
    pass_hat_k: dict[int, float]  # averaged over scenarios, k = 1..trials
    pass_at_k: dict[int, float]
    latency_ms_p50: float  # per conversation
    latency_ms_p95: float
    tool_latency_ms_p50: float  # per tool call
    tool_latency_ms_p95: float
    tool_calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: Decimal
    cost_usd_per_trial: Decimal
    by_tag: dict[str, TagSummary]


class RunInfo(Record):
    started_at: dt.datetime
    finished_at: dt.datetime
    agent: str  # scripted | live | replay
    transport: str  # memory | stdio | http
    backend: str  # sqlite | postgresql
    trials: int
    selection: str  # the suite, tags or files that were run
    model: str | None = None  # live and replayed runs
    provider: str | None = None
    outlay_version: str
    git_commit: str | None = None


class RunResult(Record):
    schema_: str = Field(default=SCHEMA, alias="schema")
    run: RunInfo
    summary: Summary
    scenarios: list[ScenarioResult]

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json(indent=2, by_alias=True) + "\n", encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> RunResult:
        return cls.model_validate_json(path.read_text(encoding="utf-8"))
