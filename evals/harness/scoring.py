"""A trial scored against its scenario's expectations: one `CheckResult` per expectation, deterministic.

Each check says what was expected in plain words ("calls summarize_spend with group_by=team") and, when
it fails, what was seen instead (the closest calls and where they differ, the value found, the answer).
Semantics (docs/evals.md): a required call pattern must match between `times` calls (default: at least
one); with `in_order` the patterns match calls in increasing order; a forbidden pattern must match no
call, however many `times` says; a result check reads the calls named by `call` (a reference call's `as`,
or a tool name), `which` of them must pass; a database check with `each` and no matching row fails
unless its `count` accepts zero (a filter that matches nothing proves nothing).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from evals.harness.matching import Mismatch, describe, find, is_operator, labelled, match, show
from evals.harness.probe import DatabaseProbe
from evals.harness.results import CheckResult
from evals.harness.scenario import (
    AnswerCheck,
    CallPattern,
    DatabaseCheck,
    ResultCheck,
    Scenario,
    count_bounds,
)
from evals.harness.transcript import ToolCallRecord, Transcript

SHOWN = 3  # calls or rows quoted in a failure's detail


async def score(
    scenario: Scenario, transcript: Transcript, probe: DatabaseProbe, fingerprint_before: str
) -> list[CheckResult]:
    """Every check of the trial: the transcript's, then the database's."""
    return score_transcript(scenario, transcript) + await score_database(scenario, probe, fingerprint_before)


def score_transcript(scenario: Scenario, transcript: Transcript) -> list[CheckResult]:
    """The checks that need no database: calls, order, forbidden calls, call count, results, answer."""
    expect, calls = scenario.expect, transcript.calls
    checks = [_required(pattern, calls) for pattern in expect.calls]
    if expect.in_order and len(expect.calls) > 1:
        checks.append(_in_order(expect.calls, calls))
    checks += [_forbidden(pattern, calls) for pattern in expect.forbidden]
    if expect.max_calls is not None:
        checks.append(_max_calls(expect.max_calls, calls))
    checks += [_result(check, calls, _reference_tools(scenario)) for check in expect.results]
    checks += _answer(expect.answer, transcript.final_answer)
    return checks + _answer(expect.prompt, transcript.prompt or "", subject="prompt")


async def score_database(
    scenario: Scenario, probe: DatabaseProbe, fingerprint_before: str
) -> list[CheckResult]:
    """The database checks, on the company as the trial left it (no query when the scenario has none)."""
    checks = [await _database(check, probe) for check in scenario.expect.database]
    if scenario.expect.database_unchanged:
        checks.append(_unchanged(fingerprint_before, await probe.fingerprint()))
    return checks


# -- calls -------------------------------------------------------------------------------------------


def _required(pattern: CallPattern, calls: Sequence[ToolCallRecord]) -> CheckResult:
    check = f"calls {_pattern_words(pattern)}{_times_words(pattern.times)}"
    low, high = count_bounds(pattern.times)
    matched = [index for index, call in enumerate(calls) if _call_mismatch(pattern, call) is None]
    if low <= len(matched) and (high is None or len(matched) <= high):
        return CheckResult(check=check, passed=True)
    seen = _count(len(matched), "matching call") + (f": {_list_calls(calls, matched)}" if matched else "")
    near = _near_misses(pattern, calls) if len(matched) < low else ""
    return _failed(check, f"{seen}; {near}" if near else seen)


def _in_order(patterns: Sequence[CallPattern], calls: Sequence[ToolCallRecord]) -> CheckResult:
    ordered = [pattern for pattern in patterns if count_bounds(pattern.times)[1] != 0]
    check = "calls in this order: " + ", then ".join(_pattern_words(pattern) for pattern in ordered)
    after = -1
    for pattern in ordered:
        later = (i for i in range(after + 1, len(calls)) if _call_mismatch(pattern, calls[i]) is None)
        found = next(later, None)
        if found is None:
            since = f" after call #{after + 1} ({calls[after].tool})" if after >= 0 else ""
            made = _list_calls(calls, range(len(calls))) or "no tool calls"
            return _failed(check, f"no call {_pattern_words(pattern)}{since}; calls made: {made}")
        after = found
    return CheckResult(check=check, passed=True)


def _forbidden(pattern: CallPattern, calls: Sequence[ToolCallRecord]) -> CheckResult:
    check = f"never calls {_pattern_words(pattern)}"
    offending = [index for index, call in enumerate(calls) if _call_mismatch(pattern, call) is None]
    if not offending:
        return CheckResult(check=check, passed=True)
    return _failed(check, f"it did: {_list_calls(calls, offending)}")


def _max_calls(limit: int, calls: Sequence[ToolCallRecord]) -> CheckResult:
    check = f"at most {_count(limit, 'tool call')}"
    if len(calls) <= limit:
        return CheckResult(check=check, passed=True)
    return _failed(check, f"{_count(len(calls), 'call')}: {', '.join(call.tool for call in calls)}")


def _call_mismatch(pattern: CallPattern, call: ToolCallRecord) -> Mismatch | None:
    if pattern.tool not in ("*", call.tool):
        return Mismatch("", f"a call to {call.tool}")
    return match(pattern.arguments, call.arguments)


def _near_misses(pattern: CallPattern, calls: Sequence[ToolCallRecord]) -> str:
    """Why the calls to the pattern's tool did not match, or which tools were called instead."""
    same_tool = [i for i, call in enumerate(calls) if pattern.tool in ("*", call.tool)]
    if not same_tool:
        made = ", ".join(call.tool for call in calls)
        return f"{pattern.tool} was never called (calls made: {made})" if calls else "no tool was called"
    near = [
        f"call #{i + 1} {_call_words(calls[i])}: {miss}"
        for i in same_tool
        if (miss := _call_mismatch(pattern, calls[i]))
    ]
    return "; ".join(near[:SHOWN]) + _more(len(near))


def _pattern_words(pattern: CallPattern) -> str:
    tool = "any tool" if pattern.tool == "*" else pattern.tool
    arguments = ", ".join(labelled(key, value) for key, value in pattern.arguments.items())
    return f"{tool} with {arguments}" if arguments else tool


def _times_words(times: dict[str, int] | int | None) -> str:
    low, high = count_bounds(times)
    if times is None:
        return ""
    if low == high:
        return f" exactly {_count(low, 'time')}"
    if high is None:
        return f" at least {_count(low, 'time')}"
    return f" {low} to {high} times" if low else f" at most {_count(high, 'time')}"


def _call_words(call: ToolCallRecord) -> str:
    arguments = ", ".join(f"{key}={show(value, 40)}" for key, value in call.arguments.items())
    return f"{call.tool}({arguments})"


def _list_calls(calls: Sequence[ToolCallRecord], indexes: Sequence[int]) -> str:
    return ", ".join(f"#{i + 1} {_call_words(calls[i])}" for i in indexes[:SHOWN]) + _more(len(indexes))


# -- results -----------------------------------------------------------------------------------------


def _reference_tools(scenario: Scenario) -> dict[str, str]:
    """`as` name → tool, so that a live agent's calls (which carry no names) are found by their tool."""
    return {call.name: call.tool for turn in scenario.reference for call in turn.calls if call.name}


def _result(check: ResultCheck, calls: Sequence[ToolCallRecord], tools: dict[str, str]) -> CheckResult:
    tool = tools.get(check.call, check.call)
    indexes = [i for i, call in enumerate(calls) if call.name == check.call] or [
        i for i, call in enumerate(calls) if call.tool == tool
    ]
    indexes = [i for i in indexes if match(check.arguments, calls[i].arguments) is None]
    chosen = {"first": indexes[:1], "last": indexes[-1:]}.get(check.which, indexes)
    named = "" if tool == check.call else f" ({check.call})"
    if check.arguments:
        named += f" with {', '.join(labelled(key, value) for key, value in check.arguments.items())}"
    which = {"any": "", "all": " (every call)", "first": " (first call)", "last": " (last call)"}
    text = f"result of {tool}{named}{which[check.which]}: {'; '.join(_condition_words(check)) or 'made'}"
    if not chosen:
        if check.if_called:
            return CheckResult(check=f"{text} (if called)", passed=True)
        return _failed(text, f"no call to {tool} was made")
    problems = {i: _result_problems(check, calls[i]) for i in chosen}
    passed = any if check.which == "any" else all
    if passed(not problem for problem in problems.values()):
        return CheckResult(check=text, passed=True)
    failing = [f"call #{i + 1} {calls[i].tool}: {problem}" for i, problem in problems.items() if problem]
    return _failed(text, "; ".join(failing[:SHOWN]) + _more(len(failing)))


def _condition_words(check: ResultCheck) -> list[str]:
    words = [] if check.is_error is None else ["an error" if check.is_error else "not an error"]
    words += [labelled(path, matcher) for path, matcher in check.checks.items()]
    return words + ([] if check.text is None else [f"text {describe(check.text)}"])


def _result_problems(check: ResultCheck, call: ToolCallRecord) -> str:
    problems = []
    if check.is_error is not None and call.is_error != check.is_error:
        problems.append(f"it {'succeeded' if check.is_error else 'failed'} ({show(call.text, 160)})")
    for path, matcher in check.checks.items():
        try:
            mismatch = match(matcher, find(path, call.structured), path)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if mismatch:
            problems.append(str(mismatch))
    if check.text is not None:
        mismatch = match(check.text, call.text, "text")
        if mismatch:
            problems.append(str(mismatch))
    if problems and call.is_error and check.is_error is None:
        problems.append(f"the call failed: {show(call.text, 160)}")
    return "; ".join(problems)


# -- database ----------------------------------------------------------------------------------------


async def _database(check: DatabaseCheck, probe: DatabaseProbe) -> CheckResult:
    rows = await probe.expenses(check.expenses)
    where = ", ".join(labelled(column, value) for column, value in check.expenses.items())
    asserted = [] if check.count is None else [f"count {_equals(check.count)}"]
    asserted += [f"each {labelled(column, matcher)}" for column, matcher in check.each.items()]
    text = f"expenses{f' where {where}' if where else ''}: {'; '.join(asserted)}"
    problems = []
    if check.count is not None and match(check.count, len(rows)):
        refs = ", ".join(row["ref"] for row in rows[:SHOWN]) + _more(len(rows))
        problems.append(f"{_count(len(rows), 'expense')} matched" + (f": {refs}" if rows else ""))
    if check.each and not rows and (check.count is None or match(check.count, 0)):
        problems.append("no expense matched the filter")
    wrong = [f"{row['ref']} {mismatch}" for row in rows if (mismatch := match(check.each, row))]
    if wrong:
        problems.append("; ".join(wrong[:SHOWN]) + _more(len(wrong)))
    return _failed(text, "; ".join(problems)) if problems else CheckResult(check=text, passed=True)


def _unchanged(before: str, after: str) -> CheckResult:
    check = "no expense was changed (category, category source, status)"
    if before == after:
        return CheckResult(check=check, passed=True)
    return _failed(check, "an expense's category, category source or status changed during the trial")


def _equals(matcher: Any) -> str:
    return describe(matcher) if is_operator(matcher) else f"= {describe(matcher)}"


# -- answer ------------------------------------------------------------------------------------------


def _answer(check: AnswerCheck, answer: str, subject: str = "answer") -> list[CheckResult]:
    """Phrases of the final answer (or of the rendered prompt: `subject`)."""
    nothing = "the agent gave no answer" if subject == "answer" else f"there was no {subject}"
    said = f"the {subject} was: {show(answer, 300)}" if answer else nothing
    results = [
        _passes(f"{subject} mentions {phrase!r}", _phrase(phrase, answer) is not None, said)
        for phrase in check.contains
    ]
    for phrase in check.not_contains:
        found = _phrase(phrase, answer)
        excerpt = f"it does: …{answer[max(found.start() - 60, 0) : found.end() + 60]}…" if found else ""
        results.append(_passes(f"{subject} does not mention {phrase!r}", found is None, excerpt))
    return results + [
        _passes(f"{subject} matches /{pattern}/", re.search(pattern, answer, re.IGNORECASE) is not None, said)
        for pattern in check.matches
    ]


def _phrase(phrase: str, answer: str) -> re.Match[str] | None:
    """Where the answer says the phrase, without regard to case or to how it breaks lines."""
    return re.search(r"\s+".join(map(re.escape, phrase.split())), answer, re.IGNORECASE)


# -- words -------------------------------------------------------------------------------------------


def _passes(check: str, passed: bool, detail: str) -> CheckResult:
    return CheckResult(check=check, passed=passed, detail="" if passed else detail)


def _failed(check: str, detail: str) -> CheckResult:
    return CheckResult(check=check, passed=False, detail=detail)


def _count(n: int, noun: str) -> str:
    if n == 1 and noun == "time":
        return "once"
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _more(total: int) -> str:
    return f" (and {total - SHOWN} more)" if total > SHOWN else ""
