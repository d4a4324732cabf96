"""A conversation with an LLM in the gateway's own terms, free of any SDK: what the structured-answer
logic and `ModelGateway.converse` build and read, and what `llm.py` translates to and from the provider's
wire format. One shape for both: a structured answer is a `Chat` that forces its one tool; an agent's
chat offers tools the model may call or not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Tool:
    """A tool offered to the model. For a structured answer, the one it must call, whose input schema
    is the answer's schema; for an agent, one of the tools it may call (an MCP tool's name, description
    and input schema)."""

    name: str
    description: str
    input_schema: dict[str, Any]


@dataclass(frozen=True)
class UserText:
    text: str


@dataclass(frozen=True)
class ToolUse:
    """One tool the model asked to call."""

    id: str
    name: str
    input: dict[str, Any]


@dataclass(frozen=True)
class ModelTurn:
    """What the model said: prose, tool calls, or both (several calls may come at once)."""

    text: str
    tool_uses: tuple[ToolUse, ...] = ()


@dataclass(frozen=True)
class ToolResult:
    """What one tool call gave back, as the model reads it; `is_error` when the tool refused or failed
    (or, for a structured answer, when its input broke the schema)."""

    tool_use_id: str
    content: str
    is_error: bool = False


@dataclass(frozen=True)
class ToolResults:
    """Our turn after the model's tool calls: one result for each of them."""

    results: tuple[ToolResult, ...]


ChatTurn = UserText | ModelTurn | ToolResults


@dataclass(frozen=True)
class Chat:
    """A conversation where the model chooses: answer, or call any of `tools` (none: prose only) — or,
    with `force` (a tool's name), must call that tool."""

    system: str
    turns: tuple[ChatTurn, ...]
    tools: tuple[Tool, ...] = ()
    force: str | None = None

    def then(self, *turns: ChatTurn) -> Chat:
        return Chat(self.system, (*self.turns, *turns), self.tools, self.force)


@dataclass(frozen=True)
class ChatReply:
    turn: ModelTurn
    input_tokens: int
    output_tokens: int
    stop_reason: str | None
