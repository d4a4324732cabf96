"""Structured answers: a pydantic model becomes the input schema of a forced tool (closed choices as
JSON-schema enums), and the model's tool input is validated back into it."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from server.gateway.messages import (
    ChatReply,
    ChatTurn,
    ModelTurn,
    Tool,
    ToolResult,
    ToolResults,
    ToolUse,
    UserText,
)

A = TypeVar("A", bound=BaseModel)


class OffSchema(Exception):
    """The reply did not fit the answer model; `problems` are safe to show the model (no input values)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class AnswerSpec(Generic[A]):
    """The answer model, its closed choices, and the tool that asks for it."""

    def __init__(self, model: type[A], choices: Mapping[str, Sequence[str]] | None = None) -> None:
        self.model = model
        self.choices = {name: tuple(values) for name, values in (choices or {}).items()}
        schema = model.model_json_schema()
        for name, allowed in self.choices.items():
            if name not in schema.get("properties", {}):
                raise ValueError(f"{model.__name__} has no field {name!r} to constrain")
            _constrain(schema["properties"][name], allowed)
        description = (model.__doc__ or f"Record the {model.__name__}.").strip()
        self.tool = Tool(_tool_name(model.__name__), description, schema)
        self.fingerprint = hashlib.sha256(json.dumps(schema, sort_keys=True).encode()).hexdigest()[:16]

    def parse(self, reply: ChatReply) -> A:
        call = _first_call(reply)
        if call is None:
            raise OffSchema([f"no call to the tool {self.tool.name!r}"])
        try:
            value = self.model.model_validate(call.input)
        except ValidationError as exc:
            raise OffSchema([_problem(error) for error in exc.errors(include_input=False)]) from None
        if problems := self._choice_problems(value):
            raise OffSchema(problems)
        return value

    def _choice_problems(self, value: A) -> list[str]:
        problems = []
        for name, allowed in self.choices.items():
            given = getattr(value, name)
            for item in given if isinstance(given, list | tuple) else [given]:
                if item is not None and item not in allowed:
                    problems.append(f"{name}: must be one of the listed values")
        return problems

    def repair(self, reply: ChatReply, problems: list[str]) -> list[ChatTurn]:
        """The turns that show the model its mistake and ask again."""
        request = f"Call {self.tool.name} again with input that fixes: " + "; ".join(problems)
        call = _first_call(reply)
        if call is None:
            return [ModelTurn(reply.turn.text or "(no answer)"), UserText(request)]
        return [ModelTurn("", (call,)), ToolResults((ToolResult(call.id, request, is_error=True),))]


def _first_call(reply: ChatReply) -> ToolUse | None:
    """The forced tool's call: the model is asked for exactly one, and only the first is read."""
    return reply.turn.tool_uses[0] if reply.turn.tool_uses else None


def _constrain(field: dict[str, Any], allowed: tuple[str, ...]) -> None:
    """Put the enum where the values go: on the field, its list items, or each branch of an Optional."""
    if "anyOf" in field:
        for branch in field["anyOf"]:
            if branch.get("type") != "null":
                _constrain(branch, allowed)
    elif field.get("type") == "array":
        field["items"] = {**field.get("items", {}), "enum": list(allowed)}
    else:
        field["enum"] = list(allowed)


def _tool_name(class_name: str) -> str:
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", class_name).lower()
    return "record_" + re.sub(r"[^a-z0-9_]", "_", snake)[:56]


def _problem(error: Mapping[str, Any]) -> str:
    where = ".".join(str(part) for part in error["loc"]) or "input"
    return f"{where}: {error['msg']}"
