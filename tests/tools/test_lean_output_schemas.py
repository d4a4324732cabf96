"""The output schemas are published lean (`server.tool_server.lean_schema`: references inlined, null
alternatives folded into the type) and accept and refuse exactly what the models' own schemas do."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no stubs ship with it; it comes with mcp
import pytest
from mcp import Client

from server.tool_server import lean_schema
from tests.world import call_ok
from tools.expenses.schemas import ExpenseDetail, SearchExpensesOutput

pytestmark = pytest.mark.anyio


def variants(instance: Any) -> Iterator[Any]:
    """`instance` with one value at a time replaced: by null, by a number, by a string, or left out."""
    if isinstance(instance, dict):
        for key, value in instance.items():
            replacements: tuple[Any, ...] = (None, 7, "x", {})
            for replacement in replacements:
                yield {**instance, key: replacement}
            yield {k: v for k, v in instance.items() if k != key}
            for changed in variants(value):
                yield {**instance, key: changed}
    elif isinstance(instance, list) and instance:
        for changed in variants(instance[0]):
            yield [changed, *instance[1:]]


def valid(schema: dict[str, Any], instance: Any) -> bool:
    return not list(jsonschema.Draft202012Validator(schema).iter_errors(instance))


@pytest.mark.parametrize(
    ("model", "tool", "arguments"),
    [
        (SearchExpensesOutput, "search_expenses", {"limit": 2}),
        (ExpenseDetail, "get_expense", None),
    ],
)
async def test_the_lean_schema_accepts_and_refuses_what_the_models_schema_does(
    acme: Client, model: type[SearchExpensesOutput], tool: str, arguments: dict[str, Any] | None
) -> None:
    if arguments is None:  # an expense with a category and an employee, by its id
        [first] = (await call_ok(acme, "search_expenses", {"limit": 1}))["items"]
        arguments = {"expense_id": first["id"]}
    answer = await call_ok(acme, tool, arguments)
    full = model.model_json_schema()
    lean = lean_schema(copy.deepcopy(full))

    assert "$defs" in full
    assert "$defs" not in lean
    assert "$ref" not in str(lean)
    checked = [answer, *variants(answer)]
    assert len(checked) > 100
    assert [valid(lean, instance) for instance in checked] == [valid(full, instance) for instance in checked]
    assert valid(lean, answer)
    assert not all(valid(lean, instance) for instance in checked)


def test_a_recursive_definition_keeps_its_reference() -> None:
    schema = {
        "type": "object",
        "properties": {"root": {"$ref": "#/$defs/Node"}},
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {"child": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]}},
            }
        },
    }
    lean = lean_schema(schema)

    assert lean["$defs"] == schema["$defs"]
    tree = {"root": {"child": {"child": None}}}
    assert valid(lean, tree)
    assert not valid(lean, {"root": {"child": 3}})


def test_an_enum_that_may_be_null_keeps_its_alternatives() -> None:
    field = {"anyOf": [{"enum": ["a", "b"], "type": "string"}, {"type": "null"}], "description": "d"}
    lean = lean_schema({"type": "object", "properties": {"f": field}})

    assert lean["properties"]["f"] == field
    assert valid(lean, {"f": None})
    assert not valid(lean, {"f": "c"})
