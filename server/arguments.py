"""What every text a caller sends must be, whatever the tool, prompt or resource: an object of
arguments by name, each text without a NUL character (PostgreSQL refuses NUL in text, and SQLite ends
a string at it) and at most `MAX_TEXT` characters long (no tool takes longer text; SQLite refuses LIKE
patterns past 50,000 bytes). The request middleware (`server.calls.observe_request`) checks this
before any handler runs, so that no tool needs to; what a value means (a date, an amount, a period) is
checked by its argument's type (`server.kit`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import unquote

MAX_TEXT = 4_000
_JSON_TYPES: dict[type, str] = {
    str: "a string",
    int: "a JSON number",
    float: "a JSON number",
    bool: "a JSON boolean",
    list: "a JSON array",
    dict: "a JSON object",
    type(None): "null",
}


def problem_in(method: str, params: Mapping[str, Any]) -> str | None:
    """What is wrong with a request's arguments (or a resource's URI), in one line naming the argument;
    None when nothing is."""
    if method == "resources/read":
        uri = params.get("uri")
        # A template's variables are percent-decoded: outlay://expenses/EXP-%00 reads "EXP-\x00".
        return _text_problem("uri", unquote(uri) if isinstance(uri, str) else uri)
    if method == "completion/complete":  # the value typed so far, and the prompt's other arguments
        return _first_problem({"argument": params.get("argument"), "context": params.get("context")})
    arguments = params.get("arguments")
    if arguments is None:
        return None
    if not isinstance(arguments, Mapping):
        given = json_kind(arguments)
        return f'arguments: an object of arguments by name is expected, e.g. {{"limit": 5}}; got {given}'
    return _first_problem(arguments)


def json_kind(value: Any) -> str:
    """What a value sent as JSON is, in words: "a string", "a JSON number", ..."""
    return _JSON_TYPES.get(type(value), "a JSON value")


def _first_problem(arguments: Mapping[str, Any]) -> str | None:
    problems = (_text_problem(path, value) for path, value in _texts(arguments, ""))
    return next((problem for problem in problems if problem is not None), None)


def _texts(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Every text in the arguments (keys too), with where it is: `merchant`, `dimensions.fund`,
    `expense_ids[1]`; a key is reported as its object's path (`arguments` at the top)."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield path or "arguments", key
            yield from _texts(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _texts(item, f"{path}[{index}]")
    else:
        yield path, value


def _text_problem(path: str, value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    if "\x00" in value:
        return f"{path}: contains a NUL character (\\u0000), which no text may hold"
    if len(value) > MAX_TEXT:
        return f"{path}: {len(value):,} characters; at most {MAX_TEXT:,}"
    return None


def given(text: str | None) -> str | None:
    """The text, stripped, or None when blank. A tool call never brings blank text (`server.tool_server`
    refuses it); prompt forms do, for an optional argument left empty."""
    return text.strip() if text and text.strip() else None
