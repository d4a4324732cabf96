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

from evals.harness.validation import validate_matcher, validate_path

ID = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=80)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# The columns a database check may filter and assert on (evals/harness/probe.py reads them).
EXPENSE_COLUMNS = (
    "ref",
    "spent_on",
    "amount",
    "currency",
    "merchant",
    "descriptor",
    "memo",
    "team",
    "employee",
    "status",
    "category",
    "category_source",
    "category_confidence",
    "receipt_present",
)


def _usable(matchers: dict[str, Any], *, columns: bool = False, paths: bool = False) -> dict[str, Any]:
    """Rejects at load time what matching could only fail on later: unknown operators, bad regexes,
    JSONPaths that do not parse, columns the database check does not have."""
    problems = [problem for key, value in matchers.items() for problem in validate_matcher(value, key)]
    if paths:
        problems += [problem for key in matchers for problem in validate_path(key)]
    if columns:
        problems += [
            f"{key}: no such column (columns: {', '.join(EXPENSE_COLUMNS)})"
            for key in matchers
            if key not in EXPENSE_COLUMNS
        ]
    if problems:
        raise ValueError("; ".join(problems))
    return matchers


class Confirm(StrEnum):
    """How the client answers a server's request for confirmation (MCP elicitation) of a write."""

    ACCEPT = "accept"
    DECLINE = "decline"
    CANCEL = "cancel"


class PromptStart(Strict):
    """The user starts from one of the server's MCP prompts (as in Claude Desktop's prompt menu): it is
    rendered with `arguments` and its text opens the first user message, before `turns[0]`."""

    name: str
    arguments: dict[str, str] = Field(default_factory=dict)


class User(Strict):
    """The user's side: the script every agent follows, and for live runs an optional persona that lets a
    simulated user (an LLM) answer the agent's questions instead of the script's later turns."""

    turns: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)
    prompt: PromptStart | None = None
    instruction: str | None = None
    confirm_writes: Confirm = Confirm.DECLINE
    # Who says each turn: an employee's e-mail (the person behind the call: OUTLAY_USER, or an API key
    # bound to them over HTTP), or null for a caller without a user. The tool calls after a turn are
    # made as its speaker. Default: every turn by a caller without a user.
    people: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")] | None] | None = None

    def speaker(self, turn: int) -> str | None:
        """Who says turn `turn` (later turns of a simulated user: the last speaker)."""
        if not self.people:
            return None
        return self.people[min(turn, len(self.people) - 1)]


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

    @field_validator("arguments")
    @classmethod
    def _matchers(cls, arguments: dict[str, Any]) -> dict[str, Any]:
        return _usable(arguments)

    @field_validator("times")
    @classmethod
    def _bounds(cls, times: dict[str, int] | int | None) -> dict[str, int] | int | None:
        if isinstance(times, dict) and (not times or set(times) - {"min", "max"}):
            raise ValueError("times is a count (2) or bounds ({min: 1, max: 3})")
        low, high = count_bounds(times)
        if low < 0 or (high is not None and high < low):
            raise ValueError(f"times: no count is at least {low} and at most {high}")
        return times


def count_bounds(times: dict[str, int] | int | None) -> tuple[int, int | None]:
    """A call pattern's `times` as (at least, at most): by default at least once."""
    if times is None:
        return 1, None
    if isinstance(times, int):
        return times, times
    return times.get("min", 0), times.get("max")


class ResultCheck(Strict):
    """Checks on the result of a call: the call named `call` (an `as` name, or a tool name); `which` of
    that tool's calls must pass (`any` by default). `checks` are JSONPath → matcher over the structured
    result; `text` matches the text content (e.g. an error's message). `arguments` narrows the calls
    judged to those whose arguments match; `if_called: true` passes when no call was judged (an agent
    that rightly asks first need not make the call)."""

    call: str
    which: Literal["any", "all", "first", "last"] = "any"
    arguments: dict[str, Any] = Field(default_factory=dict)
    if_called: bool = False
    is_error: bool | None = None
    checks: dict[str, Any] = Field(default_factory=dict)
    text: Any = None

    @field_validator("arguments")
    @classmethod
    def _matchers(cls, arguments: dict[str, Any]) -> dict[str, Any]:
        return _usable(arguments)

    @field_validator("checks")
    @classmethod
    def _paths(cls, checks: dict[str, Any]) -> dict[str, Any]:
        return _usable(checks, paths=True)

    @field_validator("text")
    @classmethod
    def _text_matcher(cls, text: Any) -> Any:
        return _usable({"text": text})["text"]


class DatabaseCheck(Strict):
    """The company's expenses after the run, filtered by `where` (columns of docs/evals.md), with `count`
    and `each` (a matcher per column, for every matching row)."""

    expenses: dict[str, Any] = Field(default_factory=dict, description="where: column → value or matcher")
    count: Any = None
    each: dict[str, Any] = Field(default_factory=dict)

    @field_validator("expenses", "each")
    @classmethod
    def _columns(cls, matchers: dict[str, Any]) -> dict[str, Any]:
        return _usable(matchers, columns=True)

    @field_validator("count")
    @classmethod
    def _count(cls, count: Any) -> Any:
        return _usable({"count": count})["count"]

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
            try:
                re.compile(pattern)
            except re.error as exc:  # not a ValueError: pydantic would let it escape the loader
                raise ValueError(f"/{pattern}/ is not a regular expression: {exc}") from None
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
    prompt: AnswerCheck = Field(default_factory=AnswerCheck, description="phrases of the rendered prompt")


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
        if self.user.people is not None and len(self.user.people) != len(self.user.turns):
            raise ValueError(
                f"user.people names {len(self.user.people)} speaker(s) for {len(self.user.turns)} turn(s): "
                "give one per turn (an e-mail, or null for a caller without a user)"
            )
        names = [call.name for turn in self.reference for call in turn.calls if call.name]
        if len(names) != len(set(names)):
            raise ValueError(f"reference call names (`as`) must be unique: {names}")
        return self


class ScenarioFile(Strict):
    defaults: dict[str, Any] = Field(default_factory=dict)
    scenarios: list[dict[str, Any]] = Field(min_length=1)
