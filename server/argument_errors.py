"""How a tool's refused arguments read: one line per argument, naming it, showing what was given and
saying what is accepted, with an example:

    date_from: "yesterday" is not a date; expected: YYYY-MM-DD, e.g. "2026-07-01" (work out days ...)
    merchant_text: search_expenses has no such argument; did you mean merchant?

Pydantic's own text names the SDK's internal models (`search_expensesArguments`), links to its website
and sometimes misleads ("input is too short" for "yesterday"); the model that reads the refusal has
to act on it. `server.tool_server` refuses every tool call's arguments through `explain`."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from server.arguments import json_kind

DATE_EXAMPLE = '"2026-07-01"'
_SHOWN = 60  # characters of a given value a refusal repeats
_DATES = {"date_type", "date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact"}

# Pydantic's error types → the words after "<argument>: ". {given} is the value as sent (JSON), {kind}
# its JSON type in words, {accepted} the argument's description, {numbers} its range with an example,
# and the error's own context ({expected}, {max_length}, ...).
_WORDS = {
    "string_type": "{given} is {kind}, not a string; expected: {accepted}",
    "list_type": "{given} is {kind}, not a list; expected: {accepted}",
    "dict_type": "{given} is {kind}, not an object; expected: {accepted}",
    "string_pattern_mismatch": "{given} is not in the accepted form; expected: {accepted}",
    "bool_type": "{given} is not true or false; expected: the JSON value true or false, e.g. true",
    "bool_parsing": "{given} is not true or false; expected: the JSON value true or false, e.g. true",
    "literal_error": "{given} is not a choice; expected one of: {expected}",
    "enum": "{given} is not a choice; expected one of: {expected}",
    "string_too_long": "{length:,} characters; at most {max_length:,}",
    "too_long": "{actual_length} items; at most {max_length}",
    "too_short": "{actual_length} items; at least {min_length}",
}
_WORDS |= dict.fromkeys(
    ("int_type", "int_parsing", "int_from_float", "int_parsing_size"),
    "{given} is not a whole number; expected: {numbers}",
)
_WORDS |= dict.fromkeys(
    ("greater_than_equal", "greater_than", "less_than_equal", "less_than"),
    "{given} is out of range; expected: {numbers}",
)
_ANY = "{given} is not accepted ({message}); expected: {accepted}"

Property = Mapping[str, Any]  # the argument's JSON schema, as tools/list advertises it


def explain(tool: str, error: ValidationError, arguments: Mapping[str, Any], schema: Property) -> str:
    """One line per refused argument, in the order the caller sent them (missing ones last)."""
    by_argument: dict[str, list[ErrorDetails]] = {}
    for detail in error.errors(include_url=False):
        by_argument.setdefault(str(detail["loc"][0]) if detail["loc"] else "arguments", []).append(detail)
    sent = {name: position for position, name in enumerate(arguments)}
    names = sorted(by_argument, key=lambda name: sent.get(name, len(sent)))
    properties: Mapping[str, Property] = schema.get("properties", {})
    required = set(schema.get("required", ()))
    return "\n".join(_line(tool, name, by_argument[name], arguments, properties, required) for name in names)


def _line(
    tool: str,
    name: str,
    details: list[ErrorDetails],
    arguments: Mapping[str, Any],
    properties: Mapping[str, Property],
    required: set[str],
) -> str:
    first, prop = details[0], properties.get(name, {})
    if first["type"] == "extra_forbidden":
        return f"{_named(name)}: {tool} has no such argument; {known_arguments(name, list(properties))}"
    if first["type"] == "missing":
        return f"{name}: missing; it is required: {_described(prop)}"
    given = arguments.get(name)
    if len(details) > 1 and not isinstance(given, Mapping | list):
        # Every form of a union refused the one value (group_by: a grouping or dim:<name>).
        return f"{name}: {_shown(given)} is not accepted; expected: {_described(prop)}"
    path, value = _where(first["loc"], arguments)
    problem = _problem(first, value, prop, optional=name not in required)
    more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
    return f"{path}: {problem}{more}"


def _named(name: str) -> str:
    """An argument's name as the line's head: as sent when it is a plain name, else quoted as JSON, so that
    an empty name or one holding a newline still heads one line the caller can tell apart."""
    return name if name.isidentifier() else json.dumps(name)


def known_arguments(name: str, known: Sequence[str]) -> str:
    """What to send instead of the unknown argument `name`: its close spellings, or the arguments it is a
    word of (`id` -> `expense_id`), else every argument."""
    close = difflib.get_close_matches(name.lower(), known, n=3) if name else []
    close = close or [argument for argument in known if name.lower() in argument.split("_")][:3]
    if close:
        return f"did you mean {' or '.join(close)}?"
    return f"its arguments are {', '.join(known)}" if known else "it takes no arguments"


def _where(loc: tuple[int | str, ...], arguments: Mapping[str, Any]) -> tuple[str, Any]:
    """The refused value's path as a caller writes it (`dimensions.fund`, `expense_ids[1]`), and the value
    as it was sent; the path stops where pydantic's location leaves the data (a union's branch names)."""
    path, value = str(loc[0]), arguments.get(str(loc[0]))
    for part in loc[1:]:
        if isinstance(value, Mapping) and part in value:
            path, value = f"{path}.{part}", value[part]
        elif isinstance(value, list) and isinstance(part, int) and part < len(value):
            path, value = f"{path}[{part}]", value[part]
        else:
            break
    return path, value


def _problem(detail: ErrorDetails, value: Any, prop: Property, *, optional: bool) -> str:
    kind = detail["type"]
    if kind in _DATES:
        return _not_a_date(value)
    if kind == "string_too_short" and detail.get("ctx", {}).get("min_length") == 1:
        return _empty(value, prop, optional=optional)
    if kind == "value_error":
        return _own_words(detail)
    facts = {
        "given": _shown(value),
        "kind": json_kind(value),
        "accepted": _described(prop),
        "numbers": _number_range(prop),
        "length": len(str(value)),
        "message": detail["msg"].lower(),
    }
    return _WORDS.get(kind, _ANY).format_map(detail.get("ctx", {}) | facts)


def _not_a_date(value: Any) -> str:
    text = value if isinstance(value, str) else ""
    if re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", text):
        return f"{_shown(value)} is no day of the calendar; expected: YYYY-MM-DD, e.g. {DATE_EXAMPLE}"
    # Relative words are the likeliest mistake; the date they mean depends on "today", which the agent has.
    relative = any(character.isalpha() for character in text)
    words = " (work out days such as 'yesterday' from today's date)" if relative else ""
    return f"{_shown(value)} is not a date; expected: YYYY-MM-DD, e.g. {DATE_EXAMPLE}{words}"


def _empty(value: Any, prop: Property, *, optional: bool) -> str:
    # A blank filter used to mean "no filter": leaving the argument out says that unambiguously.
    instead = "leave the argument out for none, or give: " if optional else "it is required: "
    return f"{_shown(value)} is empty; {instead}{_described(prop)}"


def _own_words(detail: ErrorDetails) -> str:
    """The argument's type (`server.kit`) already wrote for the model: its message, without pydantic's
    "Value error, " and without the argument's name, which the line starts with."""
    message = str(detail.get("ctx", {}).get("error", detail["msg"]))
    name, _, rest = message.partition(": ")
    return rest if rest and name.isidentifier() else message


def _number_range(prop: Property) -> str:
    low, high = prop.get("minimum"), prop.get("maximum")
    bounds = f" from {low} to {high}" if low is not None and high is not None else ""
    example = prop.get("default", low if low is not None else 1)
    return f"a whole number{bounds}, e.g. {example}"


def _described(prop: Property) -> str:
    return str(prop.get("description") or "see the tool's input schema").rstrip(".")


def _shown(value: Any) -> str:
    """The value as the caller sent it, in JSON (a number and a string differ), cut short."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= _SHOWN else f"{text[: _SHOWN - 1]}…"
