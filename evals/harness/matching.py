"""Tolerant matching of what a scenario expects against what a trial produced (docs/evals.md, "Matchers").

A literal scalar matches tolerantly (numbers and numeric strings as Decimal, other strings without case
or surrounding blanks, booleans and null exactly, a YAML date as the ISO date it names); a literal mapping
is a subset; a literal list matches element by element; a mapping of `$` keys is an operator matcher.
An absent key or a JSONPath that found nothing is `MISSING`, which only `$exists: false` (or a `$not`)
accepts. `match` says why a value does not match, in words for a report; `describe` renders a matcher
for a check's name; evals/harness/validation.py finds what the loader rejects.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from jsonpath_ng import JSONPath
from jsonpath_ng.ext.parser import parse


class Missing(enum.Enum):
    MISSING = "missing"

    def __repr__(self) -> str:
        return "MISSING"


MISSING = Missing.MISSING  # an absent key or argument, or a JSONPath that found nothing (not null)


@dataclass(frozen=True)
class Mismatch:
    where: str  # the key or JSONPath inside the compared value ("" at its top)
    reason: str  # "expected any of ['2026-Q3'], got '2026-Q2'"

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}" if self.where else self.reason


def match(expected: Any, actual: Any, where: str = "") -> Mismatch | None:
    """None when `actual` satisfies the matcher `expected`, else the first reason it does not."""
    if is_operator(expected):
        return _operators(expected, actual, where)
    if isinstance(expected, Mapping):
        return _subset(expected, actual, where)
    if isinstance(expected, list):
        return _elementwise(expected, actual, where)
    return None if _equal(expected, actual) else _expected(where, describe(expected), actual)


def is_operator(value: Any) -> bool:
    return isinstance(value, Mapping) and bool(value) and all(str(key).startswith("$") for key in value)


def find(path: str, document: Any) -> Any:
    """The value a JSONPath finds: one value, the list of them when it finds several, or `MISSING`.
    ValueError when the path cannot be read over this document."""
    try:
        values = [found.value for found in compile_path(path).find(document)]
    except Exception as exc:  # jsonpath-ng's evaluation over arbitrary tool output raises anything
        raise ValueError(f"`{path}` could not be read ({type(exc).__name__}: {exc})") from None
    if not values:
        return MISSING
    return values[0] if len(values) == 1 else values


@lru_cache(maxsize=512)
def compile_path(path: str) -> JSONPath:
    """jsonpath-ng's extended dialect (filters such as `[?(@.key=="Sales")]`); ValueError when invalid."""
    try:
        # A deprecated form (`&` in filters) is refused everywhere, not only where warnings are errors.
        with warnings.catch_warnings():
            warnings.simplefilter("error", DeprecationWarning)
            return parse(path)
    except Exception as exc:  # its lexer raises bare Exceptions, its parser its own
        raise ValueError(f"`{path}` is not a JSONPath ({exc})") from None


def show(value: Any, limit: int = 120) -> str:
    """A value as a report shows it: strings quoted, the rest as JSON, long ones cut."""
    if value is MISSING:
        return "nothing"
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fold(text: str) -> str:
    """Text compared as a reader would: without case, with every run of blanks as one space."""
    return " ".join(text.split()).casefold()


# -- literals ----------------------------------------------------------------------------------------

_NUMERIC = re.compile(r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)\s*$")


def _subset(expected: Mapping[str, Any], actual: Any, where: str) -> Mismatch | None:
    if not isinstance(actual, Mapping):
        return _expected(where, "an object", actual)
    for key, value in expected.items():
        mismatch = match(value, actual.get(key, MISSING), _join(where, str(key)))
        if mismatch:
            return mismatch
    return None


def _elementwise(expected: list[Any], actual: Any, where: str) -> Mismatch | None:
    if not isinstance(actual, list) or len(actual) != len(expected):
        return _expected(where, f"a list of {len(expected)}: {show(expected)}", actual)
    for index, (value, item) in enumerate(zip(expected, actual, strict=True)):
        mismatch = match(value, item, f"{where}[{index}]")
        if mismatch:
            return mismatch
    return None


def _equal(expected: Any, actual: Any) -> bool:
    if actual is MISSING:
        return False
    if expected is None or isinstance(expected, bool) or actual is None or isinstance(actual, bool):
        return type(expected) is type(actual) and bool(expected == actual)
    if isinstance(expected, dt.date):  # YAML reads an unquoted 2026-07-01 as a date
        pair = _times(expected, actual)
        return pair is not None and pair[0] == pair[1]
    number, other = as_decimal(expected), as_decimal(actual)
    if number is not None and other is not None:
        return number == other
    return isinstance(expected, str) and isinstance(actual, str) and fold(expected) == fold(actual)


def as_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, float):  # its shortest repr is what was written: 0.1 stays 0.1
        return Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, str) and _NUMERIC.match(value):
        return Decimal(value.strip())
    return None


def _as_time(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        for parser in (dt.date.fromisoformat, dt.datetime.fromisoformat):
            try:
                return parser(value.strip())
            except ValueError:
                continue
    return None


def _times(first: Any, second: Any) -> tuple[dt.date, dt.date] | None:
    """Two dates or timestamps made comparable: by day when either is a plain date."""
    a, b = _as_time(first), _as_time(second)
    if a is None or b is None:
        return None
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return (a, b) if (a.tzinfo is None) == (b.tzinfo is None) else None
    return _day(a), _day(b)


def _day(value: dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def comparable(bound: Any, actual: Any) -> tuple[Any, Any] | None:
    """(bound, actual) as numbers or as dates, whichever the bound is; None when they cannot compare."""
    number = as_decimal(bound)
    if number is not None:
        other = as_decimal(actual)
        return None if other is None else (number, other)
    return _times(bound, actual)


# -- operators ---------------------------------------------------------------------------------------

Operator = Callable[[Any, Any, str, Mapping[str, Any]], "Mismatch | None"]
TYPES = ("string", "number", "integer", "boolean", "null", "list", "object")
MODIFIERS = ("$rel", "$abs")  # read by $approx


def _operators(matcher: Mapping[str, Any], actual: Any, where: str) -> Mismatch | None:
    for key, argument in matcher.items():
        if key in MODIFIERS:
            continue
        operator = OPERATORS.get(key)
        if operator is None:
            return Mismatch(where, f"`{key}` is not a matcher operator")
        mismatch = operator(argument, actual, where, matcher)
        if mismatch:
            return mismatch
    return None


def _any_of(options: Any, actual: Any, where: str, _: Mapping[str, Any]) -> Mismatch | None:
    if any(match(option, actual) is None for option in options):
        return None
    return _expected(where, describe({"$any_of": options}), actual)


def _not(matcher: Any, actual: Any, where: str, _: Mapping[str, Any]) -> Mismatch | None:
    return None if match(matcher, actual) else _expected(where, f"not {describe(matcher)}", actual)


def _min(bound: Any, actual: Any, where: str, _: Mapping[str, Any]) -> Mismatch | None:
    pair = comparable(bound, actual)
    return None if pair and pair[1] >= pair[0] else _expected(where, f"≥ {describe(bound)}", actual)


def _max(bound: Any, actual: Any, where: str, _: Mapping[str, Any]) -> Mismatch | None:
    pair = comparable(bound, actual)
    return None if pair and pair[1] <= pair[0] else _expected(where, f"≤ {describe(bound)}", actual)


def _approx(target: Any, actual: Any, where: str, matcher: Mapping[str, Any]) -> Mismatch | None:
    value, goal = as_decimal(actual), as_decimal(target)
    if value is not None and goal is not None and abs(value - goal) <= _tolerance(goal, matcher):
        return None
    return _expected(where, describe(matcher), actual)


def _tolerance(goal: Decimal, matcher: Mapping[str, Any]) -> Decimal:
    """As pytest.approx: 1% by default; an `$abs` alone leaves the relative tolerance out."""
    rel, absolute = matcher.get("$rel"), matcher.get("$abs")
    if rel is None and absolute is None:
        rel = "0.01"
    return max(abs(goal) * (as_decimal(rel) or 0), as_decimal(absolute) or Decimal(0))


def _contains(needle: Any, actual: Any, where: str, _: Mapping[str, Any]) -> Mismatch | None:
    if isinstance(actual, str) and not isinstance(needle, Mapping | list):
        found = fold(_text(needle)) in fold(actual)
    else:
        found = isinstance(actual, list) and any(match(needle, item) is None for item in actual)
    return None if found else _expected(where, f"to contain {describe(needle)}", actual)


def _contains_all(needles: Any, actual: Any, where: str, _: Mapping[str, Any]) -> Mismatch | None:
    absent = [needle for needle in needles if _contains(needle, actual, where, {})]
    if not absent:
        return None
    missing = ", ".join(describe(needle) for needle in absent)
    return _expected(where, f"to contain all of {describe(list(needles))} (missing {missing})", actual)


def _each(matcher: Any, actual: Any, where: str, _: Mapping[str, Any]) -> Mismatch | None:
    if not isinstance(actual, list):
        return _expected(where, f"a list, each {describe(matcher)}", actual)
    for index, item in enumerate(actual):
        mismatch = match(matcher, item, f"{where}[{index}]")
        if mismatch:
            return mismatch
    return None


def _matches(pattern: Any, actual: Any, where: str, _: Mapping[str, Any]) -> Mismatch | None:
    text = _text(actual) if as_decimal(actual) is not None or isinstance(actual, str) else None
    if text is not None and re.search(pattern, text, re.IGNORECASE):
        return None
    return _expected(where, f"to match /{pattern}/", actual)


def _exists(wanted: Any, actual: Any, where: str, _: Mapping[str, Any]) -> Mismatch | None:
    present = actual is not MISSING and actual is not None
    if present == bool(wanted):
        return None
    return _expected(where, "a value" if wanted else "nothing (absent or null)", actual)


def _length(size: Any, actual: Any, where: str, _: Mapping[str, Any]) -> Mismatch | None:
    if not isinstance(actual, str | list | Mapping):
        return _expected(where, f"something of length {describe(size)}", actual)
    if match(size, len(actual)) is None:
        return None
    return _expected(where, f"length {describe(size)}", actual, f" (length {len(actual)})")


def _type(name: Any, actual: Any, where: str, _: Mapping[str, Any]) -> Mismatch | None:
    return None if type_name(actual) in _TYPE_FAMILY.get(name, ()) else _expected(where, f"a {name}", actual)


_TYPE_FAMILY = {name: (name,) for name in TYPES} | {"number": ("number", "integer")}


def type_name(value: Any) -> str:
    """JSON's name for a value's type ('integer' for whole numbers, as JSON Schema has it)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return "integer"
    if isinstance(value, float | Decimal):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "object" if isinstance(value, Mapping) else type(value).__name__


def _exactly(value: Any, actual: Any, where: str, _: Mapping[str, Any]) -> Mismatch | None:
    return None if _strict(value, actual) else _expected(where, f"exactly {show(value)}", actual)


def _strict(expected: Any, actual: Any) -> bool:
    if type(expected) is not type(actual):
        return False
    if isinstance(expected, Mapping):
        return expected.keys() == actual.keys() and all(_strict(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list):
        return len(expected) == len(actual) and all(map(_strict, expected, actual))
    return bool(expected == actual)


OPERATORS: dict[str, Operator] = {
    "$any_of": _any_of,
    "$not": _not,
    "$min": _min,
    "$max": _max,
    "$approx": _approx,
    "$contains": _contains,
    "$contains_all": _contains_all,
    "$each": _each,
    "$matches": _matches,
    "$exists": _exists,
    "$length": _length,
    "$type": _type,
    "$exactly": _exactly,
}


def _expected(where: str, what: str, actual: Any, note: str = "") -> Mismatch:
    return Mismatch(where, f"expected {what}, got {show(actual)}{note}")


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value) if as_decimal(value) is not None else show(value)


# -- words -------------------------------------------------------------------------------------------


def describe(matcher: Any) -> str:
    """A matcher in words: "any of ['2026-Q3', '2026-07']", "≥ 0.6 and ≤ 1", "'TRAVEL'"."""
    if is_operator(matcher):
        words = (_describe_operator(key, value, matcher) for key, value in matcher.items())
        return " and ".join(word for word in words if word)
    if isinstance(matcher, Mapping):
        return "{" + ", ".join(labelled(str(key), value) for key, value in matcher.items()) + "}"
    if isinstance(matcher, list):
        return "[" + ", ".join(describe(item) for item in matcher) + "]"
    return show(matcher.isoformat() if isinstance(matcher, dt.date) else matcher)


def labelled(label: str, matcher: Any) -> str:
    """`label=value` for a literal (`period=2026-Q3`), `label <matcher>` otherwise (`total ≥ 100`)."""
    if is_operator(matcher):
        return f"{label} {describe(matcher)}"
    if isinstance(matcher, str | dt.date):
        return f"{label}={_text(matcher)}"
    return f"{label}={describe(matcher)}"


def _describe_operator(key: str, value: Any, matcher: Mapping[str, Any]) -> str:
    words: dict[str, Callable[[], str]] = {
        "$any_of": lambda: f"any of {describe(list(value))}",
        "$not": lambda: f"not {describe(value)}",
        "$min": lambda: f"≥ {describe(value)}",
        "$max": lambda: f"≤ {describe(value)}",
        "$approx": lambda: f"≈ {describe(value)} ({_describe_tolerance(matcher)})",
        "$contains": lambda: f"contains {describe(value)}",
        "$contains_all": lambda: f"contains all of {describe(list(value))}",
        "$each": lambda: f"each {describe(value)}",
        "$matches": lambda: f"matches /{value}/",
        "$exists": lambda: "present" if value else "absent",
        "$length": lambda: f"of length {describe(value)}",
        "$type": lambda: f"a {value}",
        "$exactly": lambda: f"exactly {show(value)}",
    }
    if key in MODIFIERS:
        return "" if "$approx" in matcher else f"{key} {show(value)}"
    return words[key]() if key in words else f"{key} {show(value)}"


def _describe_tolerance(matcher: Mapping[str, Any]) -> str:
    rel, absolute = matcher.get("$rel"), matcher.get("$abs")
    parts = [f"±{(Decimal(str(rel)) * 100).normalize():f}%" if rel is not None else ""]
    parts.append(f"±{absolute}" if absolute is not None else "")
    return " or ".join(part for part in parts if part) or "±1%"
