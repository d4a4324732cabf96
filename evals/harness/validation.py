"""Load-time checks of scenario matchers and JSONPaths: what `matching` could only fail on later (an
unknown or misspelt operator, a mapping mixing operators with plain keys, a bad regex or JSONPath, an
argument an operator cannot use) becomes a `file:line` error when the scenario file is loaded."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from typing import Any

from evals.harness.matching import MODIFIERS, OPERATORS, TYPES, as_decimal, comparable, compile_path


def validate_matcher(value: Any, where: str = "") -> list[str]:
    """What is wrong with a matcher, one line a problem (empty when it is usable)."""
    if isinstance(value, Mapping):
        keys = [str(key) for key in value]
        operators = [key for key in keys if key.startswith("$")]
        if operators and len(operators) != len(keys):
            plain = [key for key in keys if not key.startswith("$")]
            return [
                f"{_at(where)}mixes matcher operators {operators} with plain keys {plain}: "
                "a mapping is either all operators or a literal"
            ]
        if operators:
            return [problem for key in keys for problem in _validate_operator(key, value, where)]
        return [
            problem
            for key in keys
            for problem in validate_matcher(value[key], f"{where}.{key}" if where else key)
        ]
    if isinstance(value, list):
        return [
            problem for i, item in enumerate(value) for problem in validate_matcher(item, f"{where}[{i}]")
        ]
    return []


def validate_path(path: str) -> list[str]:
    try:
        compile_path(path)
    except ValueError as exc:
        return [str(exc)]
    return []


def _validate_operator(key: str, matcher: Mapping[str, Any], where: str) -> list[str]:
    argument = matcher[key]
    if key in MODIFIERS:
        tolerance = as_decimal(argument)
        ok = "$approx" in matcher and tolerance is not None and tolerance >= 0
        return [] if ok else [f"{_at(where)}`{key}` is a non-negative tolerance for `$approx`"]
    if key not in OPERATORS:
        close = difflib.get_close_matches(key, [*OPERATORS, *MODIFIERS], n=1, cutoff=0.75)
        hint = f"; did you mean `{close[0]}`?" if close else ""
        return [f"{_at(where)}`{key}` is not a matcher operator{hint} (known: {', '.join(OPERATORS)})"]
    problem = _ARGUMENT_CHECKS.get(key, lambda _: None)(argument)
    if problem:
        return [f"{_at(where)}`{key}` {problem}"]
    return [problem for nested in _nested(key, argument) for problem in validate_matcher(nested, where)]


def _nested(key: str, argument: Any) -> list[Any]:
    """The matchers inside an operator's argument, validated in turn."""
    if key in ("$any_of", "$contains_all"):
        return list(argument)
    return [argument] if key in ("$not", "$each", "$contains", "$length") else []


def _regex_problem(pattern: Any) -> str | None:
    if not isinstance(pattern, str):
        return "needs a regular expression (text)"
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"has a bad regular expression /{pattern}/: {exc}"
    return None


_ARGUMENT_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "$any_of": lambda a: None if isinstance(a, list) and a else "needs a non-empty list of matchers",
    "$contains_all": lambda a: None if isinstance(a, list) and a else "needs a non-empty list of matchers",
    "$min": lambda a: None if comparable(a, a) else "needs a number or an ISO date",
    "$max": lambda a: None if comparable(a, a) else "needs a number or an ISO date",
    "$approx": lambda a: None if as_decimal(a) is not None else "needs a number",
    "$matches": _regex_problem,
    "$exists": lambda a: None if isinstance(a, bool) else "needs true or false",
    "$length": lambda a: (
        "needs a non-negative integer or a matcher"
        if isinstance(a, bool) or (isinstance(a, int) and a < 0) or not isinstance(a, int | Mapping)
        else None
    ),
    "$type": lambda a: None if a in TYPES else f"needs one of {', '.join(TYPES)}",
}


def _at(where: str) -> str:
    return f"{where}: " if where else ""
