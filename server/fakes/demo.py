"""A fake Claude for demos (`outlay fake-llm`): every answer is a valid instance of the forced tool's
schema, chosen deterministically from the request, so that a demo runs the LLM path with no key."""

from __future__ import annotations

import hashlib
from typing import Any

from server.fakes.script import Answer, Recorded


def schema_answer(request: Recorded) -> Answer:
    body = request.json()
    choice = str((body.get("tool_choice") or {}).get("name"))
    tools: dict[str, dict[str, Any]] = {tool.get("name"): tool for tool in body.get("tools") or []}
    tool = tools.get(choice) or next(iter(tools.values()), {})
    schema: dict[str, Any] = tool.get("input_schema", {})
    seed = int(hashlib.sha256(request.body).hexdigest(), 16)
    return Answer(fill(schema, seed, schema.get("$defs", {})))


def fill(schema: dict[str, Any], seed: int, defs: dict[str, Any]) -> Any:
    """A value that satisfies the usual pydantic-made schemas: enums, objects, arrays, numbers, strings."""
    if "$ref" in schema:
        return fill(defs[schema["$ref"].rsplit("/", 1)[-1]], seed, defs)
    if "enum" in schema:
        return schema["enum"][seed % len(schema["enum"])]
    if "anyOf" in schema:
        return fill(schema["anyOf"][0], seed, defs)
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: fill(properties[name], seed, defs) for name in schema.get("required", properties)}
    if kind == "array":
        return [fill(schema.get("items", {}), seed, defs)] * max(1, schema.get("minItems", 1))
    if kind in ("number", "integer"):
        low, high = schema.get("minimum", 0), schema.get("maximum", 1)
        return low + (high - low) * 0.75 if kind == "number" else int(low)
    if kind == "boolean":
        return False
    return "A demo answer from the fake model."
