"""A conversation with an LLM in the gateway's own terms, free of any SDK: what the structured-answer
logic builds and reads, and what `llm.py` translates to and from the provider's wire format.

Two shapes: a `Conversation` forces one tool (structured answers); a `Chat` offers tools the model may
call or not, as an agent uses them (`ModelGateway.converse`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Tool:
    """A tool offered to the model. For a structured answer, the one it must call, whose input schema
    is the answer's schema; in a chat, one of the tools it may call (an MCP tool's name, description
    and input schema)."""

    name: str
    description: str
    input_schema: dict[str, Any]


@dataclass(frozen=True)
class ToolCall:
    id: str
    input: dict[str, Any]


@dataclass(frozen=True)
class UserText:
    text: str


@dataclass(frozen=True)
class AssistantTurn:
    """What the model said: a tool call, or (when it ignored the tool) prose."""

    tool_call: ToolCall | None
    text: str


@dataclass(frozen=True)
class ToolFeedback:
    """Our reply to a tool call that broke the schema."""

    tool_use_id: str
    text: str


Turn = UserText | AssistantTurn | ToolFeedback


@dataclass(frozen=True)
class Conversation:
    system: str
    turns: tuple[Turn, ...]
    tool: Tool

    def then(self, *turns: Turn) -> Conversation:
        return Conversation(self.system, (*self.turns, *turns), self.tool)


@dataclass(frozen=True)
class Reply:
    turn: AssistantTurn
    input_tokens: int
    output_tokens: int
    stop_reason: str | None


@dataclass(frozen=True)
class ToolUse:
    """One tool the model asked to call in a chat."""

    id: str
    name: str
    input: dict[str, Any]


@dataclass(frozen=True)
class ModelTurn:
    """What the model said in a chat: prose, tool calls, or both (several calls may come at once)."""

    text: str
    tool_uses: tuple[ToolUse, ...] = ()


@dataclass(frozen=True)
class ToolResult:
    """What one tool call gave back, as the model reads it; `is_error` when the tool refused or failed."""

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
    """A conversation where the model chooses: answer, or call any of `tools` (none: prose only)."""

    system: str
    turns: tuple[ChatTurn, ...]
    tools: tuple[Tool, ...] = ()


@dataclass(frozen=True)
class ChatReply:
    turn: ModelTurn
    input_tokens: int
    output_tokens: int
    stop_reason: str | None
