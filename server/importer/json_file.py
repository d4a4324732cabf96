"""A JSON document of the import format (approval_policy.json, expense_policy.json) read into its pydantic
model, every problem on line 0 with the JSON path of the bad value as its column (`-` for the document):
`expense_policy.json:0: rules[2].amount: must be more than 0`.

The path is the document's: a discriminated union's tag, which pydantic puts in its error locations
(`rules.0.cap.amount`), is not a key of the JSON and is left out. An unknown key is answered with the
keys of the object it is in, found by walking the models along the path.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Collection
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from server.importer import fields
from server.importer.checks import unknown_reference
from server.importer.problems import WHOLE, Problems

M = TypeVar("M", bound=BaseModel)
Location = tuple[int | str, ...]
_MESSAGES = {
    "missing": "required",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
    "tuple_type": "must be a JSON list",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "int_type": "must be a whole number",
    "literal_error": "must be one of {expected}",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "string_pattern_mismatch": "must match {pattern}",
}


def read_document(path: Path, file: str, model: type[M], problems: Problems) -> M | None:
    """The document at `path` as `model`; None, with its problems recorded under `file`, when it is not
    UTF-8 JSON that the model accepts."""
    try:
        return model.model_validate(json.loads(path.read_text(encoding="utf-8-sig")))
    except OSError as error:
        problems.add(file, 0, WHOLE, f"cannot be read ({error.strerror or error})")
    except UnicodeDecodeError as error:
        problems.add(file, 0, WHOLE, f"not UTF-8 text ({error.reason} at byte {error.start})")
    except json.JSONDecodeError as error:
        problems.add(
            file, 0, WHOLE, f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        )
    except ValidationError as error:
        for detail in error.errors():
            column, message = describe(detail, model)
            problems.add(file, 0, column, message)
    return None


def json_path(location: Location) -> str:
    """`rules[1].steps[0]` for ('rules', 1, 'steps', 0); `-` for the document itself."""
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in location)
    return path.removeprefix(".") or WHOLE


def describe(detail: ErrorDetails, model: type[BaseModel]) -> tuple[str, str]:
    """The JSON path and the message of one validation error of a `model` document."""
    location, models = _walk(model, detail["loc"][:-1])
    last = detail["loc"][-1] if detail["loc"] else None
    kind = detail["type"]
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        location, _ = _walk(model, detail["loc"])
        name = str(detail.get("ctx", {}).get("discriminator", "kind")).strip("'")
        return json_path((*location, name)), _bad_tag(detail, name, _members(model, detail["loc"]))
    if last is not None and not _is_tag(models, last):
        location = (*location, last)
    if kind == "extra_forbidden":
        return json_path(location), _unknown_key(str(last), models)
    template = _MESSAGES.get(kind)
    message = template.format(**detail.get("ctx", {})) if template else detail["msg"]
    return json_path(location), message.removeprefix("Value error, ")


def _bad_tag(detail: ErrorDetails, name: str, members: list[type[BaseModel]]) -> str:
    expected = [tag for m in members for tag in _tags(m, name)]
    listed = ", ".join(expected)
    if detail["type"] == "union_tag_not_found":
        return f"required: one of {listed}"
    tag = str(detail.get("ctx", {}).get("tag", ""))
    close = difflib.get_close_matches(tag, expected, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown {name} {tag!r}; {hint}the {name}s are: {listed}"


def _unknown_key(key: str, models: list[type[BaseModel]]) -> str:
    if len(models) != 1:
        return "unknown key"
    expected = list(models[0].model_fields)
    close = difflib.get_close_matches(key, expected, n=1)
    return (
        f"unknown key; did you mean {close[0]!r}?"
        if close
        else f"unknown key; expected: {', '.join(expected)}"
    )


def _walk(model: type[BaseModel], location: Location) -> tuple[Location, list[type[BaseModel]]]:
    """The location without union tags, and the models the value at its end can be."""
    models, kept = [model], list[int | str]()
    for part in location:
        if isinstance(part, int):  # a list's element: the same models
            kept.append(part)
            continue
        found = [m.model_fields[part].annotation for m in models if part in m.model_fields]
        if found:
            kept.append(part)
            models = [inner for annotation in found for inner in _models_in(annotation)]
        elif _is_tag(models, part):
            models = [
                m for m in models if any(part in _literals(f.annotation) for f in m.model_fields.values())
            ]
        else:  # a key of a JSON object of free keys (a mapping)
            kept.append(part)
            models = []
    return tuple(kept), models


def _members(model: type[BaseModel], location: Location) -> list[type[BaseModel]]:
    return _walk(model, location)[1]


def _is_tag(models: list[type[BaseModel]], part: int | str) -> bool:
    if isinstance(part, int) or any(part in m.model_fields for m in models):
        return False
    return any(part in _literals(f.annotation) for m in models for f in m.model_fields.values())


def _tags(model: type[BaseModel], name: str) -> tuple[str, ...]:
    field = model.model_fields.get(name)
    return tuple(str(tag) for tag in _literals(field.annotation)) if field else ()


def _literals(annotation: Any) -> tuple[Any, ...]:
    return get_args(annotation) if get_origin(annotation) is Literal else ()


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The models an annotation holds: itself, or those of its arguments (unions, tuples, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for argument in get_args(annotation) for model in _models_in(argument)]


def check_amount(file: str, column: str, text: str, currency: str, problems: Problems) -> None:
    """An amount of a document must fit its currency (no more decimals than it has)."""
    try:
        fields.amount(currency)(text)
    except ValueError as error:
        problems.add(file, 0, column, str(error))


def check_known(
    file: str,
    column: str,
    values: tuple[str, ...] | None,
    kind: str,
    known: Collection[str] | None,
    problems: Problems,
) -> None:
    """Each of `values` (a list at `column`) must be a known `kind`; nothing to check without a list."""
    if values is None or known is None:
        return
    for position, value in enumerate(values):
        if value not in known:
            problems.add(file, 0, f"{column}[{position}]", unknown_reference(kind, value, known))
