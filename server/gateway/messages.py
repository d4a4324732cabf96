"""A conversation with an LLM in the gateway's own terms, free of any SDK: what the structured-answer
logic builds and reads, and what `llm.py` translates to and from the provider's wire format."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Tool:
    """The one tool the model must call; its input schema is the answer's schema."""

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
