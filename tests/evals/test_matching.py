"""The matcher grammar of scenario files: tolerant literals, every operator, JSONPath, load-time checks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from evals.harness.loading import ScenarioError, load_scenarios
from evals.harness.matching import MISSING, describe, find, labelled, match
from evals.harness.validation import validate_matcher, validate_path

LITERALS = [
    # numbers and numeric strings as decimals
    ("1200", "1200.00", True),
    (1200, "1200.00", True),
    ("1200.00", 1200, True),
    (0.1, "0.10", True),
    (12.5, 12.50, True),
    ("1200", "1200.01", False),
    (5, "five", False),
    # other strings: case and surrounding blanks do not count, inner words do
    ("Sales", " sales ", True),
    ("Marketing Ops", "marketing ops", True),
    ("Marketing", "Marketing Ops", False),
    ("EXP-000001", "exp-000001", True),
    # booleans and null exactly
    (True, True, True),
    (True, 1, False),
    (1, True, False),
    (False, 0, False),
    (False, None, False),
    (None, None, True),
    (None, "null", False),
    (None, MISSING, False),
    ("true", True, False),
    # a date YAML read from an unquoted 2026-07-01
    (dt.date(2026, 7, 1), "2026-07-01", True),
    (dt.date(2026, 7, 1), "2026-07-02", False),
    (dt.date(2026, 7, 1), "July 1st", False),
    # mappings are subsets, lists element by element
    ({"team": "Sales"}, {"team": "sales", "total": "10.00"}, True),
    ({"team": "Sales", "total": "10"}, {"team": "Sales", "total": "10.00"}, True),
    ({"team": "Sales"}, {"total": "10.00"}, False),
    ({"team": "Sales"}, ["Sales"], False),
    ({}, {"anything": 1}, True),
    ({"filters": {"team": "Sales"}}, {"filters": {"team": "Sales", "category": None}}, True),
    (["a", 2], ["A", "2.0"], True),
    (["a", 2], [2, "a"], False),
    (["a"], ["a", "b"], False),
    (["a"], "a", False),
    ("x", MISSING, False),
]


@pytest.mark.parametrize(("expected", "actual", "passes"), LITERALS)
def test_literals_match_tolerantly(expected: Any, actual: Any, passes: bool) -> None:
    assert (match(expected, actual) is None) is passes


OPERATORS = [
    ({"$any_of": ["2026-Q3", "2026-07"]}, "2026-q3", True),
    ({"$any_of": ["2026-Q3", "2026-07"]}, "2026-Q2", False),
    ({"$any_of": [{"$exists": False}, False]}, MISSING, True),
    ({"$not": True}, False, True),
    ({"$not": True}, MISSING, True),
    ({"$not": True}, True, False),
    ({"$not": {"$contains": "meals"}}, "TRAVEL", True),
    ({"$min": 0.6}, "0.6", True),
    ({"$min": 0.6}, 0.59, False),
    ({"$max": "100"}, 100, True),
    ({"$max": "100"}, "100.01", False),
    ({"$min": 1, "$max": 3}, 2, True),
    ({"$min": 1, "$max": 3}, 4, False),
    ({"$min": 1}, "lots", False),
    ({"$min": 1}, MISSING, False),
    ({"$min": 0}, float("nan"), False),
    ({"$approx": 1}, float("inf"), False),
    ({"$min": dt.date(2026, 7, 1)}, "2026-07-01", True),
    ({"$min": "2026-07-01"}, "2026-06-30", False),
    ({"$max": "2026-07-31"}, "2026-07-31T23:00:00+00:00", True),
    ({"$max": "2026-07-31"}, "2026-08-01T00:00:00Z", False),
    ({"$approx": 100}, "100.99", True),
    ({"$approx": 100}, "101.01", False),
    ({"$approx": 100, "$rel": 0.1}, 109, True),
    ({"$approx": 100, "$abs": 0.5}, "100.5", True),
    ({"$approx": 100, "$abs": 0.5}, "100.6", False),  # an $abs alone leaves the 1% out
    ({"$approx": 100, "$rel": 0.001, "$abs": 2}, 101.5, True),
    ({"$approx": 100}, None, False),
    ({"$contains": "Lufthansa"}, "Paid LUFTHANSA 2201234", True),
    ({"$contains": "uber"}, "Lufthansa", False),
    ({"$contains": 412.5}, "412.5 USD", True),
    ({"$contains": "Sales"}, ["Marketing", "sales"], True),
    ({"$contains": {"key": "Sales", "total": {"$min": 100}}}, [{"key": "Sales", "total": "120.00"}], True),
    ({"$contains": {"key": "Sales", "total": {"$min": 100}}}, [{"key": "Sales", "total": "99.00"}], False),
    ({"$contains": "x"}, {"x": 1}, False),
    ({"$contains_all": ["Sales", "marketing"]}, ["Marketing", "Sales", "Eng"], True),
    ({"$contains_all": ["Sales", "Legal"]}, ["Marketing", "Sales"], False),
    ({"$contains_all": ["review", "person"]}, "A person must review it", True),
    ({"$each": {"$min": 0}}, ["1", 2, 0], True),
    ({"$each": {"$min": 0}}, ["1", -2], False),
    ({"$each": "TRAVEL"}, [], True),
    ({"$each": "TRAVEL"}, "TRAVEL", False),
    ({"$matches": r"^exp-\d{6}$"}, "EXP-000100", True),
    ({"$matches": r"^\d+\.\d{2}$"}, "412.5", False),
    ({"$matches": r"^\d+$"}, 42, True),
    ({"$matches": "x"}, None, False),
    ({"$exists": True}, "", True),
    ({"$exists": True}, None, False),
    ({"$exists": True}, MISSING, False),
    ({"$exists": False}, MISSING, True),
    ({"$exists": False}, None, True),
    ({"$exists": False}, 0, False),
    ({"$length": 2}, ["a", "b"], True),
    ({"$length": 2}, "ab", True),
    ({"$length": 2}, {"a": 1}, False),
    ({"$length": {"$min": 1}}, [], False),
    ({"$length": 1}, 5, False),
    ({"$type": "string"}, "1", True),
    ({"$type": "number"}, 1.5, True),
    ({"$type": "number"}, 2, True),
    ({"$type": "number"}, "1.5", False),
    ({"$type": "integer"}, 2, True),
    ({"$type": "integer"}, 2.0, True),
    ({"$type": "integer"}, 2.5, False),
    ({"$type": "integer"}, True, False),
    ({"$type": "boolean"}, False, True),
    ({"$type": "null"}, None, True),
    ({"$type": "null"}, MISSING, False),
    ({"$type": "list"}, [], True),
    ({"$type": "object"}, {}, True),
    ({"$type": "object"}, [], False),
    ({"$exactly": "Sales"}, "Sales", True),
    ({"$exactly": "Sales"}, "sales", False),
    ({"$exactly": 1}, 1.0, False),
    ({"$exactly": 1}, True, False),
    ({"$exactly": {"a": [1]}}, {"a": [1]}, True),
    ({"$exactly": {"a": [1]}}, {"a": [1], "b": 2}, False),
    ({"$min": 1, "$max": 10, "$not": 5}, 5, False),  # every operator must hold
]


@pytest.mark.parametrize(("matcher", "actual", "passes"), OPERATORS)
def test_operators(matcher: dict[str, Any], actual: Any, passes: bool) -> None:
    assert (match(matcher, actual) is None) is passes


def test_a_mismatch_says_where_and_what_was_seen() -> None:
    expected = {"group_by": "team", "period": {"$any_of": ["2026-Q3", "2026-07"]}}

    mismatch = match(expected, {"group_by": "team", "period": "2026-Q2"})

    assert str(mismatch) == "period: expected any of ['2026-Q3', '2026-07'], got '2026-Q2'"


@pytest.mark.parametrize(
    ("expected", "actual", "said"),
    [
        ({"apply": True}, {}, "apply: expected true, got nothing"),
        (
            {"date_to": dt.date(2026, 11, 20)},
            {"date_to": "2026-12-31"},
            "date_to: expected '2026-11-20', got '2026-12-31'",
        ),
        (
            {"groups": [{"total": "10"}]},
            {"groups": [{"total": "9"}]},
            "groups[0].total: expected '10', got '9'",
        ),
        ({"$each": {"$min": 0}}, [1, -2], "[1]: expected ≥ 0, got -2"),
        ({"$length": 2}, [1], "expected length 2, got [1] (length 1)"),
        ({"$approx": 0.6, "$rel": 0.05}, 0.5, "expected ≈ 0.6 (±5%), got 0.5"),
        (
            {"$contains_all": ["a", "b"]},
            ["a"],
            "expected to contain all of ['a', 'b'] (missing 'b'), got [\"a\"]",
        ),
        ({"$exists": False}, "x", "expected nothing (absent or null), got 'x'"),
    ],
)
def test_mismatch_words(expected: Any, actual: Any, said: str) -> None:
    assert str(match(expected, actual)) == said


@pytest.mark.parametrize(
    ("matcher", "words"),
    [
        ("TRAVEL", "'TRAVEL'"),
        ({"$min": 0.6}, "≥ 0.6"),
        ({"$min": 1, "$max": 3}, "≥ 1 and ≤ 3"),
        ({"$approx": 100, "$abs": 0.5}, "≈ 100 (±0.5)"),
        ({"$not": {"$contains": "x"}}, "not contains 'x'"),
        ({"$exists": False}, "absent"),
        ({"$matches": "^a"}, "matches /^a/"),
        ({"key": "Sales", "total": {"$min": 1}}, "{key=Sales, total ≥ 1}"),
        (dt.date(2026, 7, 1), "'2026-07-01'"),
    ],
)
def test_describe(matcher: Any, words: str) -> None:
    assert describe(matcher) == words


def test_labelled_shows_literals_as_assignments() -> None:
    assert [labelled("group_by", "team"), labelled("apply", True), labelled("n", {"$max": 4})] == [
        "group_by=team",
        "apply=true",
        "n ≤ 4",
    ]


SUMMARY = {
    "period": "2026-Q3",
    "groups": [
        {"key": "Sales", "total": "120.00"},
        {"key": "Marketing", "total": "80.00"},
    ],
    "others": None,
}


@pytest.mark.parametrize(
    ("path", "found"),
    [
        ("$.period", "2026-Q3"),
        ('$.groups[?(@.key=="Sales")].total', "120.00"),
        ("$.groups[*].key", ["Sales", "Marketing"]),
        ("$.groups[0]", {"key": "Sales", "total": "120.00"}),
        ('$.groups[?(@.key=="Legal")].total', MISSING),
        ("$.nothing", MISSING),
        ("$.others", None),
    ],
)
def test_find_gives_one_value_a_list_or_missing(path: str, found: Any) -> None:
    assert find(path, SUMMARY) == found


def test_find_in_no_structured_result_finds_nothing() -> None:
    assert find("$.total", None) is MISSING


def test_a_path_that_cannot_be_read_over_the_document_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="could not be read"):
        find("$.groups.`sub(/a/, b)`", SUMMARY)


def test_only_exists_false_accepts_what_a_path_did_not_find() -> None:
    nothing = find("$.groups[5].total", SUMMARY)

    assert [match(matcher, nothing) is None for matcher in ("x", None, {"$exists": False})] == [
        False,
        False,
        True,
    ]


@pytest.mark.parametrize(
    ("matcher", "problems"),
    [
        ({"$any_of": ["a"], "$not": "b"}, []),
        (
            {"period": {"$anyof": ["a"]}},
            ["period: `$anyof` is not a matcher operator; did you mean `$any_of`?"],
        ),
        (
            {"total": {"$min": 1, "max": 2}},
            ["total: mixes matcher operators ['$min'] with plain keys ['max']: a mapping is either all"],
        ),
        ({"$matches": "(unclosed"}, ["`$matches` has a bad regular expression /(unclosed/"]),
        ({"$rel": 0.1}, ["`$rel` is a non-negative tolerance for `$approx`"]),
        ({"$approx": 1, "$abs": -1}, ["`$abs` is a non-negative tolerance for `$approx`"]),
        ({"$approx": "about one"}, ["`$approx` needs a number"]),
        ({"$min": "soon"}, ["`$min` needs a number or an ISO date"]),
        ({"$any_of": []}, ["`$any_of` needs a non-empty list of matchers"]),
        ({"$exists": "yes"}, ["`$exists` needs true or false"]),
        ({"$type": "float"}, ["`$type` needs one of string, number"]),
        ({"$length": -1}, ["`$length` needs a non-negative integer or a matcher"]),
        ({"$each": {"$nope": 1}}, ["`$nope` is not a matcher operator"]),
        ([{"a": {"$not": {"$bad": 1}}}], ["[0].a: `$bad` is not a matcher operator"]),
        ({"$any_of": [{"$min": 1}, {"$regex": "a"}]}, ["`$regex` is not a matcher operator"]),
    ],
)
def test_validate_matcher(matcher: Any, problems: list[str]) -> None:
    found = validate_matcher(matcher)

    assert len(found) == len(problems)
    assert all(problem.startswith(prefix) for problem, prefix in zip(found, problems, strict=True)), found


def test_validate_path() -> None:
    assert validate_path('$.groups[?(@.key=="Sales")].total') == []
    assert validate_path("$.groups[?(@.key==") == [
        "`$.groups[?(@.key==` is not a JSONPath (Parse error near the end of string!)"
    ]


SCENARIO = """\
scenarios:
  - id: spend-by-team
    title: Spend by team
    fixture: meridian
    today: 2026-11-20
    user:
      turns: ["Who spent the most this quarter?"]
    reference:
      - calls:
          - tool: summarize_spend
            arguments: {{group_by: team}}
        answer: Sales.
    expect:
{expect}
"""


@pytest.mark.parametrize(
    ("expect", "line", "said"),
    [
        (
            "      calls:\n        - tool: summarize_spend\n          arguments:\n"
            "            period: {$anyof: [2026-Q4]}\n",
            17,
            "period: `$anyof` is not a matcher operator; did you mean `$any_of`?",
        ),
        (
            "      results:\n        - call: summarize_spend\n          checks:\n"
            '            "$.groups[0": {$min: 1}\n',
            17,
            "`$.groups[0` is not a JSONPath",
        ),
        (
            "      database:\n        - expenses: {owner: x}\n          count: 1\n",
            15,
            "owner: no such column",
        ),
        ("      database:\n        - expenses: {ref: X}\n          count: {$atleast: 1}\n", 16, "`$atleast`"),
        (
            "      calls:\n        - tool: get_expense\n          times: {min: 3, max: 1}\n",
            16,
            "times: no count",
        ),
        ("      answer:\n        matches: ['(']\n", 15, "/(/ is not a regular expression"),
    ],
)
def test_bad_matchers_are_load_errors_with_file_and_line(
    tmp_path: Path, expect: str, line: int, said: str
) -> None:
    file = tmp_path / "bad.yaml"
    file.write_text(SCENARIO.format(expect=expect), encoding="utf-8")

    with pytest.raises(ScenarioError) as raised:
        load_scenarios([file])

    [problem] = raised.value.problems
    assert problem.startswith(f"{file}:{line}: scenario 'spend-by-team', expect.")
    assert said in problem


def test_good_matchers_load(tmp_path: Path) -> None:
    file = tmp_path / "good.yaml"
    expect = (
        "      calls:\n        - tool: summarize_spend\n          arguments: {period: {$any_of: [2026-Q4]}}\n"
        "          times: {min: 1, max: 2}\n"
        "      results:\n        - call: summarize_spend\n"
        '          checks: {"$.groups[?(@.key==\\"Sales\\")].total": {$min: 1}}\n'
        "      database:\n        - expenses: {category: {$exists: false}}\n          count: {$min: 0}\n"
    )
    file.write_text(SCENARIO.format(expect=expect), encoding="utf-8")

    [scenario] = load_scenarios([file])

    assert scenario.expect.results[0].checks == {'$.groups[?(@.key=="Sales")].total': {"$min": 1}}
