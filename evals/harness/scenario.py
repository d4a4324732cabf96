"""The scenario format: one scripted conversation, where it starts and what a good run must show.

Scenarios live in YAML files under `evals/scenarios/` (a file holds a `scenarios:` list and optional
`defaults:` shared by its scenarios). The format is documented in docs/evals.md; this module is its
schema. Matchers (the `$`-keys in `arguments`, `checks` and `database`) are read by `matching.py`.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ID = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=80)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Confirm(StrEnum):
    """How the client answers a server's request for confirmation (MCP elicitation) of a write."""

    ACCEPT = "accept"
    DECLINE = "decline"
    CANCEL = "cancel"


class User(Strict):
    """The user's side: the script every agent follows, and for live runs an optional persona that lets a
    simulated user (an LLM) answer the agent's questions instead of the script's later turns."""

    turns: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)
    instruction: str | None = None
    confirm_writes: Confirm = Confirm.DECLINE


class ReferenceCall(Strict):
    """A call the scripted agent makes. `as` names it for later calls and for checks; an argument value
    `{$from: "<name>", path: "<JSONPath>"}` is read from that call's structured result."""

    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    name: str | None = Field(default=None, alias="as")


class ReferenceTurn(Strict):
    """What a correct agent does after one user turn: its tool calls, then what it says."""

    calls: list[ReferenceCall] = Field(default_factory=list)
    answer: str = Field(min_length=1)


class CallPattern(Strict):
    """A tool call, matched tolerantly: `tool` by name (`*` = any tool) and `arguments` as a subset
    whose values may be matchers. `times` bounds how many calls match (default: at least one)."""

    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    times: dict[str, int] | int | None = None


class ResultCheck(Strict):
    """Checks on the result of a call: the call named `call` (an `as` name, or a tool name); `which` of
    that tool's calls must pass (`any` by default). `checks` are JSONPath → matcher over the structured
    result; `text` matches the text content (e.g. an error's message)."""

    call: str
    which: Literal["any", "all", "first", "last"] = "any"
    is_error: bool | None = None
    checks: dict[str, Any] = Field(default_factory=dict)
    text: Any = None


class DatabaseCheck(Strict):
    """The company's expenses after the run, filtered by `where` (columns of docs/evals.md), with `count`
    and `each` (a matcher per column, for every matching row)."""

    expenses: dict[str, Any] = Field(default_factory=dict, description="where: column → value or matcher")
    count: Any = None
    each: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _asserts_something(self) -> DatabaseCheck:
        if self.count is None and not self.each:
            raise ValueError("a database check needs `count` or `each`")
        return self


class AnswerCheck(Strict):
    """Phrases the final answer must and must not contain (case-insensitive), or regular expressions."""

    contains: list[str] = Field(default_factory=list)
    not_contains: list[str] = Field(default_factory=list)
    matches: list[str] = Field(default_factory=list)

    @field_validator("matches")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            re.compile(pattern)
        return patterns


class Expectations(Strict):
    calls: list[CallPattern] = Field(default_factory=list)
    in_order: bool = Field(default=False, description="the required calls happen in the listed order")
    forbidden: list[CallPattern] = Field(default_factory=list)
    max_calls: int | None = Field(default=None, ge=0)
    results: list[ResultCheck] = Field(default_factory=list)
    database: list[DatabaseCheck] = Field(default_factory=list)
    database_unchanged: bool = Field(default=False, description="no expense was written")
    answer: AnswerCheck = Field(default_factory=AnswerCheck)


class Scenario(Strict):
    id: ID
    title: str = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)
    fixture: str
    today: dt.date
    user: User
    reference: list[ReferenceTurn] = Field(min_length=1)
    expect: Expectations

    @model_validator(mode="after")
    def _one_reference_per_turn(self) -> Scenario:
        if len(self.reference) != len(self.user.turns):
            raise ValueError(
                f"reference has {len(self.reference)} turn(s) for {len(self.user.turns)} user turn(s): "
                "give one reference turn (calls and answer) per user turn"
            )
        names = [call.name for turn in self.reference for call in turn.calls if call.name]
        if len(names) != len(set(names)):
            raise ValueError(f"reference call names (`as`) must be unique: {names}")
        return self


class ScenarioFile(Strict):
    defaults: dict[str, Any] = Field(default_factory=dict)
    scenarios: list[dict[str, Any]] = Field(min_length=1)
