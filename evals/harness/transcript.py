"""What happened in one trial: the conversation, every tool call as the server answered it, and the
model's bill. Agents write it; scoring reads it."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal


class InfrastructureError(Exception):
    """The trial could not run (fixture, server, transport, model provider, stale recording): reported
    apart from agent failures, which are the agent's wrong moves."""


@dataclass(frozen=True)
class ToolCallRecord:
    tool: str
    arguments: dict[str, Any]
    is_error: bool
    structured: Any  # the structured result (None when the tool returned none, e.g. on errors)
    text: str  # the text content blocks, joined
    latency_ms: float
    turn: int  # index of the user turn it answered
    name: str | None = None  # the reference call's `as`, for scripted runs


@dataclass(frozen=True)
class Message:
    role: Literal["user", "assistant"]
    text: str


@dataclass
class Transcript:
    calls: list[ToolCallRecord] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    model_calls: int = 0
    prompt: str | None = None  # the MCP prompt the user started from, as the server rendered it

    @property
    def final_answer(self) -> str:
        """The agent's last words to the user ('' when it said nothing)."""
        said = [message.text for message in self.messages if message.role == "assistant"]
        return said[-1] if said else ""

    def said(self, role: Literal["user", "assistant"], text: str) -> None:
        self.messages.append(Message(role, text))
