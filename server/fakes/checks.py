"""What the real Messages API would refuse with a 400: the fake refuses it too, so that a request the
gateway builds wrongly fails in tests rather than in production."""

from __future__ import annotations

import itertools
from typing import Any

_TOOL_CHOICES = frozenset({"auto", "any", "tool", "none"})


def request_problems(body: Any, *, bedrock: bool, headers: dict[str, str]) -> list[str]:
    if not isinstance(body, dict):
        return ["the body is not a JSON object"]
    problems = _envelope_problems(body, bedrock=bedrock, headers=headers)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return [*problems, "messages: a non-empty list is required"]
    return problems + _turn_problems(messages) + _tool_problems(body)


def _envelope_problems(body: dict[str, Any], *, bedrock: bool, headers: dict[str, str]) -> list[str]:
    problems = []
    if not isinstance(body.get("max_tokens"), int):
        problems.append("max_tokens: an integer is required")
    if bedrock and "anthropic_version" not in body:
        problems.append("anthropic_version: required on Bedrock")
    if not bedrock and ("anthropic-version" not in headers or not body.get("model")):
        problems.append("the anthropic-version header and a model are required")
    return problems


def _turn_problems(messages: list[Any]) -> list[str]:
    roles = [message.get("role") if isinstance(message, dict) else None for message in messages]
    expected = ["user" if index % 2 == 0 else "assistant" for index in range(len(roles))]
    problems = [] if roles == expected else [f"roles must alternate from user: {roles}"]
    for previous, message in itertools.pairwise([*messages, None]):
        called = {block.get("id") for block in _blocks(previous) if block.get("type") == "tool_use"}
        answered = {
            block.get("tool_use_id") for block in _blocks(message) if block.get("type") == "tool_result"
        }
        if answered - called:
            problems.append("a tool_result answers no tool_use of the previous message")
        if message is not None and called - answered:
            problems.append("a tool_use is not answered by a tool_result in the next message")
    for message in messages:
        if not (isinstance(message, dict) and message.get("content")):
            problems.append("a message has no content")
        if any(block.get("type") == "text" and not block.get("text") for block in _blocks(message)):
            problems.append("text content blocks must be non-empty")
    return problems


def _tool_problems(body: dict[str, Any]) -> list[str]:
    tools = body.get("tools") or []
    names = {tool.get("name") for tool in tools}
    choice = body.get("tool_choice") or {}
    problems = []
    if choice and choice.get("type") not in _TOOL_CHOICES:
        problems.append(f"tool_choice: the type must be one of {sorted(_TOOL_CHOICES)}")
    if choice.get("type") == "tool" and choice.get("name") not in names:
        problems.append(f"tool_choice names an unknown tool {choice.get('name')!r}")
    elif choice.get("type") in ("auto", "any") and not tools:
        problems.append("tool_choice may only be specified while providing tools")
    blocks = [block for message in body.get("messages") or [] for block in _blocks(message)]
    if not tools and any(block.get("type") == "tool_use" for block in blocks):
        problems.append("requests which include tool_use blocks must define tools")
    return problems


def _blocks(message: Any) -> list[dict[str, Any]]:
    content = message.get("content") if isinstance(message, dict) else None
    return [block for block in content if isinstance(block, dict)] if isinstance(content, list) else []
