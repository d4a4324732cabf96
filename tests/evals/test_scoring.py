"""Scoring trials: hand-built transcripts against expectations, and the database probe on both backends."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from evals.harness.probe import DatabaseProbe
from evals.harness.results import CheckResult
from evals.harness.scenario import EXPENSE_COLUMNS, Scenario
from evals.harness.scoring import score, score_database, score_transcript
from evals.harness.transcript import InfrastructureError, ToolCallRecord, Transcript
from server.db.engine import create_engine
from tests.world import ACME_EXPENSES, raw, seed_world

SUMMARY = {
    "period": "2026-Q3",
    "groups": [{"key": "Sales", "total": "1200.00"}, {"key": "Marketing", "total": "800.00"}],
}


def scenario(reference_calls: list[dict[str, Any]] | None = None, **expect: Any) -> Scenario:
    return Scenario.model_validate(
        {
            "id": "spend-by-team",
            "title": "Spend by team",
            "fixture": "meridian",
            "today": "2026-07-20",
            "user": {"turns": ["Which team spent the most this quarter?"]},
            "reference": [{"calls": reference_calls or [], "answer": "Sales spent the most."}],
            "expect": expect,
        }
    )


def call(
    tool: str = "summarize_spend",
    *,
    name: str | None = None,
    is_error: bool = False,
    structured: Any = None,
    text: str = "",
    **arguments: Any,
) -> ToolCallRecord:
    return ToolCallRecord(
        tool=tool,
        arguments=arguments,
        is_error=is_error,
        structured=structured,
        text=text,
        latency_ms=5.0,
        turn=0,
        name=name,
    )


def transcript(*calls: ToolCallRecord, answer: str = "Sales spent the most: EUR 1,200.") -> Transcript:
    done = Transcript(calls=list(calls))
    done.said("user", "Which team spent the most this quarter?")
    done.said("assistant", answer)
    return done


def passed(check: str) -> CheckResult:
    return CheckResult(check=check, passed=True)


def test_a_good_trial_passes_every_check_named_in_words() -> None:
    expected = scenario(
        calls=[
            {"tool": "summarize_spend", "arguments": {"group_by": "team", "period": {"$any_of": ["2026-Q3"]}}}
        ],
        forbidden=[{"tool": "categorize_expenses", "arguments": {"apply": True}}],
        max_calls=4,
        results=[
            {"call": "summarize_spend", "checks": {'$.groups[?(@.key=="Sales")].total': {"$min": 1000}}}
        ],
        answer={"contains": ["Sales"], "not_contains": ["Marketing"], "matches": [r"EUR\s+1,200"]},
    )
    made = transcript(call(group_by="team", period="2026-q3", structured=SUMMARY))

    assert score_transcript(expected, made) == [
        passed("calls summarize_spend with group_by=team, period any of ['2026-Q3']"),
        passed("never calls categorize_expenses with apply=true"),
        passed("at most 4 tool calls"),
        passed('result of summarize_spend: $.groups[?(@.key=="Sales")].total ≥ 1000'),
        passed("answer mentions 'Sales'"),
        passed("answer does not mention 'Marketing'"),
        passed(r"answer matches /EUR\s+1,200/"),
    ]


def test_a_wrong_argument_fails_showing_the_closest_call() -> None:
    expected = scenario(
        calls=[{"tool": "summarize_spend", "arguments": {"period": {"$any_of": ["2026-Q3"]}}}]
    )

    [check] = score_transcript(expected, transcript(call("search_expenses"), call(period="2026-Q2")))

    assert check == CheckResult(
        check="calls summarize_spend with period any of ['2026-Q3']",
        passed=False,
        detail="0 matching calls; call #2 summarize_spend(period='2026-Q2'): "
        "period: expected any of ['2026-Q3'], got '2026-Q2'",
    )


def test_a_tool_never_called_fails_listing_the_calls_made() -> None:
    expected = scenario(calls=[{"tool": "forecast_budget"}])

    [check] = score_transcript(expected, transcript(call(), call("get_expense", expense_id="EXP-1")))
    [nothing] = score_transcript(expected, transcript())

    assert (
        check.detail
        == "0 matching calls; forecast_budget was never called (calls made: summarize_spend, get_expense)"
    )
    assert nothing.detail == "0 matching calls; no tool was called"
    assert not check.passed
    assert not nothing.passed


@pytest.mark.parametrize(
    ("times", "calls", "words", "passes"),
    [
        (None, 2, "calls get_expense", True),
        (2, 2, "calls get_expense exactly 2 times", True),
        (1, 2, "calls get_expense exactly once", False),
        ({"min": 2}, 1, "calls get_expense at least 2 times", False),
        ({"max": 1}, 0, "calls get_expense at most once", True),
        ({"min": 1, "max": 3}, 4, "calls get_expense 1 to 3 times", False),
        (0, 0, "calls get_expense exactly 0 times", True),
    ],
)
def test_times_bound_the_matching_calls(times: Any, calls: int, words: str, passes: bool) -> None:
    expected = scenario(calls=[{"tool": "get_expense", "times": times}])

    [check] = score_transcript(expected, transcript(*[call("get_expense") for _ in range(calls)], call()))

    assert (check.check, check.passed) == (words, passes)


def test_too_many_matching_calls_are_listed() -> None:
    expected = scenario(calls=[{"tool": "get_expense", "arguments": {"expense_id": "EXP-1"}, "times": 1}])

    [check] = score_transcript(expected, transcript(*[call("get_expense", expense_id="exp-1")] * 2))

    assert (
        check.detail
        == "2 matching calls: #1 get_expense(expense_id='exp-1'), #2 get_expense(expense_id='exp-1')"
    )


def test_too_few_matching_calls_list_the_matches_and_the_near_misses() -> None:
    expected = scenario(calls=[{"tool": "get_expense", "arguments": {"expense_id": "EXP-1"}, "times": 2}])
    made = transcript(
        call("get_expense", expense_id="EXP-1"), call(), call("get_expense", expense_id="EXP-2")
    )

    [check] = score_transcript(expected, made)

    assert check.detail == (
        "1 matching call: #1 get_expense(expense_id='EXP-1'); "
        "call #3 get_expense(expense_id='EXP-2'): expense_id: expected 'EXP-1', got 'EXP-2'"
    )


def test_a_forbidden_call_made_fails_and_one_that_left_the_argument_out_does_not() -> None:
    expected = scenario(forbidden=[{"tool": "categorize_expenses", "arguments": {"apply": True}, "times": 3}])

    [applied] = score_transcript(expected, transcript(call("categorize_expenses", apply=True, dry_run=False)))
    [left_out] = score_transcript(expected, transcript(call("categorize_expenses", dry_run=True)))
    [declined] = score_transcript(expected, transcript(call("categorize_expenses", apply=False)))

    assert applied == CheckResult(
        check="never calls categorize_expenses with apply=true",
        passed=False,
        detail="it did: #1 categorize_expenses(apply=true, dry_run=false)",
    )
    assert left_out.passed
    assert declined.passed


def test_a_forbidden_star_allows_no_call_at_all() -> None:
    expected = scenario(forbidden=[{"tool": "*"}])

    [silent] = score_transcript(expected, transcript())
    [called] = score_transcript(expected, transcript(call("search_expenses")))

    assert silent == passed("never calls any tool")
    assert (called.passed, called.detail) == (False, "it did: #1 search_expenses()")


def test_too_many_calls_fail_max_calls() -> None:
    expected = scenario(max_calls=2)

    [check] = score_transcript(expected, transcript(call(), call("get_expense"), call("forecast_budget")))

    assert check == CheckResult(
        check="at most 2 tool calls",
        passed=False,
        detail="3 calls: summarize_spend, get_expense, forecast_budget",
    )


def test_in_order_requires_the_patterns_in_increasing_order() -> None:
    expected = scenario(
        calls=[{"tool": "search_expenses"}, {"tool": "get_expense", "arguments": {"expense_id": "EXP-1"}}],
        in_order=True,
    )
    in_order = transcript(
        call("get_expense", expense_id="EXP-1"),
        call("search_expenses"),
        call("get_expense", expense_id="EXP-1"),
    )
    reversed_ = transcript(call("get_expense", expense_id="EXP-1"), call("search_expenses"))

    *_, good = score_transcript(expected, in_order)
    *each, bad = score_transcript(expected, reversed_)

    assert good == passed("calls in this order: search_expenses, then get_expense with expense_id=EXP-1")
    assert all(check.passed for check in each)  # each call was made: only the order is wrong
    assert (bad.passed, bad.detail) == (
        False,
        "no call get_expense with expense_id=EXP-1 after call #2 (search_expenses); calls made: "
        "#1 get_expense(expense_id='EXP-1'), #2 search_expenses()",
    )


def test_a_failing_result_check_shows_the_value_found() -> None:
    expected = scenario(
        results=[{"call": "forecast_budget", "checks": {"$.overrun_probability": {"$min": 0.6}}}]
    )
    made = transcript(call("forecast_budget", structured={"overrun_probability": 0.41}))

    [check] = score_transcript(expected, made)

    assert check == CheckResult(
        check="result of forecast_budget: $.overrun_probability ≥ 0.6",
        passed=False,
        detail="call #1 forecast_budget: $.overrun_probability: expected ≥ 0.6, got 0.41",
    )


@pytest.mark.parametrize(
    ("which", "passes"), [("any", True), ("all", False), ("first", False), ("last", True)]
)
def test_which_calls_a_result_check_reads(which: str, passes: bool) -> None:
    expected = scenario(
        results=[{"call": "summarize_spend", "which": which, "checks": {"$.period": "2026-Q3"}}]
    )
    made = transcript(call(structured={"period": "2026-Q2"}), call(structured={"period": "2026-Q3"}))

    [check] = score_transcript(expected, made)

    assert check.passed is passes


def test_a_path_that_cannot_be_read_fails_the_check() -> None:
    expected = scenario(results=[{"call": "summarize_spend", "checks": {"$.groups.`sub(/a/, b)`": "x"}}])

    [check] = score_transcript(expected, transcript(call(structured=SUMMARY)))

    assert (check.passed, check.detail) == (
        False,
        "call #1 summarize_spend: `$.groups.`sub(/a/, b)`` could not be read "
        "(TypeError: expected string or bytes-like object, got 'list')",
    )


def test_result_checks_on_errors_and_text() -> None:
    expected = scenario(
        results=[
            {"call": "get_expense", "is_error": True, "text": {"$contains": "no expense"}},
            {"call": "summarize_spend", "checks": {"$.total": {"$exists": True}}},
        ]
    )
    made = transcript(
        call("get_expense", is_error=True, text="There is no expense EXP-9 at Acme."),
        call(is_error=True, text="no team named 'Mktg'"),
    )

    error, failed = score_transcript(expected, made)

    assert error == passed("result of get_expense: an error; text contains 'no expense'")
    assert failed.detail == (
        "call #2 summarize_spend: $.total: expected a value, got nothing; "
        "the call failed: \"no team named 'Mktg'\""
    )


def test_an_if_called_result_check_judges_the_calls_made_and_passes_when_none_was() -> None:
    expected = scenario(results=[{"call": "get_expense", "is_error": True, "if_called": True}])

    [asked_first] = score_transcript(expected, transcript())
    [called_wrongly] = score_transcript(expected, transcript(call("get_expense", is_error=False)))

    assert asked_first == passed("result of get_expense: an error (if called)")
    assert not called_wrongly.passed


def test_a_result_check_judges_only_the_calls_with_its_arguments() -> None:
    expected = scenario(
        results=[
            {
                "call": "summarize_spend",
                "arguments": {"period": "2026-13"},
                "if_called": True,
                "is_error": True,
            }
        ]
    )
    fine = call(period="2026-Q3")

    [corrected_only] = score_transcript(expected, transcript(fine))
    [bad_then_fine] = score_transcript(expected, transcript(call(period="2026-13"), fine))

    assert corrected_only.passed
    assert not bad_then_fine.passed
    assert bad_then_fine.check == "result of summarize_spend with period=2026-13: an error"


def test_a_result_check_names_a_reference_call_that_a_live_agent_made_unnamed() -> None:
    reference = [{"tool": "summarize_spend", "arguments": {"group_by": "team"}, "as": "by_team"}]
    expected = scenario(reference, results=[{"call": "by_team", "checks": {"$.period": "2026-Q3"}}])

    [live] = score_transcript(expected, transcript(call(structured=SUMMARY)))
    [scripted] = score_transcript(expected, transcript(call(name="by_team", structured={"period": "2025"})))
    [absent] = score_transcript(expected, transcript(call("get_expense")))

    assert live == passed("result of summarize_spend (by_team): $.period=2026-Q3")
    assert (scripted.passed, absent.passed, absent.detail) == (
        False,
        False,
        "no call to summarize_spend was made",
    )


def test_answer_phrases_missing_or_forbidden_fail() -> None:
    expected = scenario(
        answer={"contains": ["needs review"], "not_contains": ["approved"], "matches": ["^no"]}
    )

    checks = score_transcript(expected, transcript(answer="I have approved it:\nit NEEDS\n  REVIEW later."))

    assert checks == [
        passed("answer mentions 'needs review'"),
        CheckResult(
            check="answer does not mention 'approved'",
            passed=False,
            detail="it does: …I have approved it:\nit NEEDS\n  REVIEW later.…",
        ),
        CheckResult(
            check="answer matches /^no/",
            passed=False,
            detail="the answer was: 'I have approved it:\\nit NEEDS\\n  REVIEW later.'",
        ),
    ]


def test_no_answer_is_said_plainly() -> None:
    [check] = score_transcript(scenario(answer={"contains": ["Sales"]}), Transcript())

    assert check.detail == "the agent gave no answer"


# -- the database ------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_probe_reads_one_companys_expenses_as_scenarios_name_them(seeded_url: str) -> None:
    async with DatabaseProbe.open(seeded_url, "acme") as probe:
        everything = await probe.expenses()
        [flight] = await probe.expenses({"ref": "exp-000100"})
        globex = await probe.expenses({"descriptor": {"$contains": "globex"}})

    assert len(everything) == ACME_EXPENSES + 1
    assert globex == []  # globex has the same refs and its own EXP-000100: never seen from acme
    assert flight == {
        "ref": "EXP-000100",
        "spent_on": "2026-07-03",
        "amount": "412.50",
        "currency": "USD",
        "merchant": "Lufthansa",
        "descriptor": "LUFTHANSA 2209876 FRA-JFK",
        "memo": "Client visit New York",
        "team": "Marketing",
        "employee": "ann@acme.example",
        "status": "approved",
        "category": "TRAVEL-AIR",
        "category_source": "model",
        "category_confidence": 0.87,
        "receipt_present": True,
    }
    assert all(set(row) == set(EXPENSE_COLUMNS) for row in everything)


@pytest.mark.anyio
async def test_the_probe_filters_with_matchers(seeded_url: str) -> None:
    uncategorized = await raw(
        seeded_url,
        "SELECT e.ref FROM expenses e JOIN companies c ON c.id = e.company_id "
        "WHERE c.slug = 'acme' AND e.category_id IS NULL ORDER BY e.ref",
    )
    async with DatabaseProbe.open(seeded_url, "acme") as probe:
        found = await probe.expenses({"category": None})
        refunds = await probe.expenses({"amount": {"$max": 0}, "currency": "usd"})
        july = await probe.expenses({"spent_on": {"$min": "2026-07-01", "$max": "2026-07-31"}})

    assert found
    assert [row["ref"] for row in found] == [ref for (ref,) in uncategorized]
    # every tenth generated expense is a refund, and a foreign one (tests/world.py)
    assert [(row["ref"], row["amount"][0]) for row in refunds] == [
        (f"EXP-0000{i}0", "-") for i in range(1, 10)
    ]
    assert july
    assert all(row["spent_on"].startswith("2026-07") for row in july)


@pytest.mark.anyio
async def test_a_company_not_in_the_database_is_infrastructure(seeded_url: str) -> None:
    with pytest.raises(InfrastructureError, match="no company 'initech'"):
        async with DatabaseProbe.open(seeded_url, "initech"):
            pass


@pytest.mark.anyio
async def test_database_checks_count_and_each(seeded_url: str) -> None:
    expected = scenario(
        database=[
            {"expenses": {"ref": "EXP-000100"}, "count": 1, "each": {"category": "travel-air"}},
            {"expenses": {"ref": "EXP-000100"}, "each": {"category": "TRAVEL", "status": "approved"}},
            {"expenses": {"merchant": "Uber", "status": "pending"}, "count": {"$min": 100}},
            {"expenses": {"ref": "EXP-999999"}, "each": {"status": "approved"}},
            {"expenses": {"ref": "EXP-999999"}, "count": 0, "each": {"status": "approved"}},
        ],
        database_unchanged=True,
    )

    async with DatabaseProbe.open(seeded_url, "acme") as probe:
        checks = await score_database(expected, probe, await probe.fingerprint())
        [changed] = await score_database(
            scenario(database_unchanged=True), probe, "a fingerprint from before"
        )

    found, wrong_category, too_few, nothing, none_expected, unchanged = checks
    assert found == passed("expenses where ref=EXP-000100: count = 1; each category=travel-air")
    assert wrong_category == CheckResult(
        check="expenses where ref=EXP-000100: each category=TRAVEL; each status=approved",
        passed=False,
        detail="EXP-000100 category: expected 'TRAVEL', got 'TRAVEL-AIR'",
    )
    assert (too_few.passed, too_few.detail) == (
        False,
        "4 expenses matched: EXP-000020, EXP-000040, EXP-000060 (and 1 more)",
    )
    assert (nothing.passed, nothing.detail) == (False, "no expense matched the filter")
    assert none_expected.passed
    assert unchanged == passed("no expense was changed (category, category source, status)")
    assert not changed.passed


@pytest.mark.anyio
async def test_the_fingerprint_changes_with_the_companys_writes_only(database_url: str) -> None:
    await seed_world(database_url)
    acme = "(SELECT id FROM companies WHERE slug = 'acme')"
    async with DatabaseProbe.open(database_url, "acme") as probe:
        before = await probe.fingerprint()
        await execute(database_url, f"UPDATE expenses SET status = 'rejected' WHERE company_id <> {acme}")
        other_company = await probe.fingerprint()
        await execute(
            database_url,
            "UPDATE expenses SET category_id = NULL, category_source = NULL "
            f"WHERE ref = 'EXP-000100' AND company_id = {acme}",
        )
        after = await probe.fingerprint()

    assert other_company == before
    assert after != before


async def execute(url: str, sql: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(sql))
    finally:
        await engine.dispose()


@pytest.mark.anyio
async def test_score_runs_the_transcript_checks_then_the_database_ones(seeded_url: str) -> None:
    expected = scenario(
        calls=[{"tool": "get_expense"}],
        database=[{"expenses": {"ref": "EXP-000100"}, "count": 1}],
        answer={"contains": ["Sales"]},
    )

    async with DatabaseProbe.open(seeded_url, "acme") as probe:
        checks = await score(expected, transcript(call("get_expense")), probe, "")

    assert [check.check for check in checks] == [
        "calls get_expense",
        "answer mentions 'Sales'",
        "expenses where ref=EXP-000100: count = 1",
    ]
    assert all(check.passed for check in checks)
