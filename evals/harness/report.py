"""A conversation run as files: the results JSON, a Markdown report a product manager can read, and a
chart of the pass rates per tag (PNG).

The report leads with what ran and how well, then the tag and scenario tables (failures first), then
what failed (expected against seen, per trial) and the infrastructure errors, said apart because they
are the test setup's failures, not the agent's. matplotlib is imported inside `render_chart`, through a
Figure with its own Agg canvas (never pyplot), as in tools/forecast/chart.py."""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from evals.harness.metrics import conversation_p95, errored_trials, failed_trials
from evals.harness.results import RunResult, ScenarioResult, Summary, TrialResult
from evals.reports import percent, table

if TYPE_CHECKING:
    from matplotlib.axes import Axes

WIDTH, DPI = 8, 100
BAR = 0.38


def write_report(result: RunResult, folder: Path, stem: str) -> list[Path]:
    """`<stem>.json`, `<stem>.md` and `<stem>.png` in `folder`; the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{stem}.json", folder / f"{stem}.md", folder / f"{stem}.png"]
    result.write(paths[0])
    paths[1].write_text(markdown(result, chart=paths[2].name), encoding="utf-8")
    paths[2].write_bytes(render_chart(result))
    return paths


# Formatting


def one_line(text: str, limit: int = 600) -> str:
    """Whitespace collapsed (a newline would end a list item or a table row), cut at `limit`."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def cell(value: object) -> str:
    """A Markdown table cell: on one line, pipes escaped."""
    return one_line(str(value), limit=300).replace("|", "\\|")


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    return table(header, [[cell(value) for value in row] for row in rows])


def _ms(value: float) -> str:
    return f"{value:,.0f} ms" if value < 1000 else f"{value / 1000:,.1f} s"


def _usd(value: Decimal) -> str:
    if value == 0:
        return "$0"
    return f"${value:,.2f}" if value >= 1 else f"${value:.4f}"


def trials_text(numbers: Sequence[int]) -> str:
    return ("trial " if len(numbers) == 1 else "trials ") + ", ".join(str(number) for number in numbers)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


# Scenarios


def status(scenario: ScenarioResult) -> str:
    if not scenario.counted:
        return "not run"
    return "failed" if failed_trials(scenario) else "passed"


def _ordered(scenarios: Sequence[ScenarioResult]) -> list[ScenarioResult]:
    """Failures first, then scenarios that could not run, then the passes; run order within each."""
    rank = {"failed": 0, "not run": 1, "passed": 2}
    return sorted(scenarios, key=lambda scenario: rank[status(scenario)])


def first_failure(trial: TrialResult) -> str:
    """A failed trial's first failing check in words: what was expected, then what was seen."""
    if not trial.failures:
        return trial.error or "failed, no check recorded"
    first = trial.failures[0]
    return f"{first.check} — seen: {first.detail}" if first.detail else first.check


def _first_failure(scenario: ScenarioResult) -> str:
    failed = failed_trials(scenario)
    if failed:
        return f"trial {failed[0].trial}: {first_failure(failed[0])}"
    errored = errored_trials(scenario)
    return f"infrastructure error ({trials_text([t.trial for t in errored])})" if errored else ""


def _successes(scenario: ScenarioResult) -> str:
    errors = len(errored_trials(scenario))
    extra = f" (+{_plural(errors, 'error')})" if errors else ""
    return f"{scenario.successes}/{len(scenario.counted)}{extra}"


def _scenario_row(scenario: ScenarioResult, k: int) -> tuple[str, ...]:
    trials = scenario.trials
    calls = sum(len(trial.calls) for trial in trials) / len(trials) if trials else 0.0
    tokens = sum(trial.input_tokens + trial.output_tokens for trial in trials)
    cost = sum((trial.cost_usd for trial in trials), Decimal(0))
    return (
        f"`{scenario.id}`",
        scenario.title,
        ", ".join(scenario.tags),
        "**failed**" if status(scenario) == "failed" else status(scenario),
        _successes(scenario),
        percent(scenario.pass_hat_k.get(k)),
        _ms(conversation_p95(scenario)) if scenario.counted else "n/a",
        f"{calls:g}",
        f"{tokens:,}",
        _usd(cost),
        _first_failure(scenario),
    )


def _scenario_table(result: RunResult) -> list[str]:
    k = result.run.trials
    header = (
        "scenario",
        "title",
        "tags",
        "status",
        "passed trials",
        f"pass^{k}",
        "p95 latency",
        "tool calls / trial",
        "tokens",
        "cost",
        "first failing check",
    )
    return _table(header, [_scenario_row(scenario, k) for scenario in _ordered(result.scenarios)])


def _tag_table(summary: Summary) -> list[str]:
    ks = sorted(summary.pass_hat_k)
    header = ("tag", "scenarios", *(f"pass^{k}" for k in ks))
    rows = [
        (tag, found.scenarios, *(percent(found.pass_hat_k.get(k)) for k in ks))
        for tag, found in summary.by_tag.items()
    ]
    return _table(header, rows) if rows else ["No scenario has a tag."]


def _grouped(trials: Sequence[TrialResult]) -> dict[tuple[str, str], list[int]]:
    """Each failing check (expected, seen) with the trials it failed in."""
    found: dict[tuple[str, str], list[int]] = {}
    for trial in trials:
        failures = [(check.check, check.detail) for check in trial.failures]
        for key in failures or [("every check to pass", trial.error or "failed without a failing check")]:
            found.setdefault(key, []).append(trial.trial)
    return found


def _what_failed(scenarios: Sequence[ScenarioResult]) -> list[str]:
    lines: list[str] = []
    for scenario in scenarios:
        failed = failed_trials(scenario)
        if not failed:
            continue
        lines += ["", f"### `{scenario.id}`: {scenario.title}", ""]
        for (expected, seen), numbers in _grouped(failed).items():
            seen_text = f" Seen: {one_line(seen)}" if seen else ""
            ran = f"{len(numbers)} of {len(scenario.counted)} that ran"
            lines.append(
                f"- {trials_text(numbers).capitalize()} ({ran}): expected {one_line(expected)}.{seen_text}"
            )
    return lines or ["", "Nothing: every trial that ran passed every check."]


def _infrastructure(scenarios: Sequence[ScenarioResult]) -> list[str]:
    lines: list[str] = []
    for scenario in scenarios:
        by_error: dict[str, list[int]] = {}
        for trial in errored_trials(scenario):
            by_error.setdefault(trial.error or "no detail", []).append(trial.trial)
        lines += [
            f"- `{scenario.id}` ({trials_text(numbers)}): {one_line(error)}"
            for error, numbers in by_error.items()
        ]
    if not lines:
        return ["", "None: every trial ran."]
    return [
        "",
        "The test setup failed in these trials; they say nothing about the agent and are left out "
        "of the pass rates. Run them again.",
        "",
        *lines,
    ]


# The headline


def _what_ran(result: RunResult) -> str:
    run = result.run
    model = f", model {run.model}" + (f" via {run.provider}" if run.provider else "") if run.model else ""
    took = (run.finished_at - run.started_at).total_seconds()
    commit = f" at {run.git_commit[:10]}" if run.git_commit else ""
    return (
        f"The {run.agent} agent over the {run.transport} transport on {run.backend}, "
        f"{_plural(run.trials, 'trial')} per scenario{model}; started {run.started_at:%Y-%m-%d %H:%M} UTC, "
        f"took {took:,.0f} s; outlay {run.outlay_version}{commit}."
    )


def _over(k: int, rated: Sequence[ScenarioResult]) -> str:
    """Which scenarios a mean over k stands on, when infrastructure errors left some without k trials."""
    have = sum(k in scenario.pass_hat_k for scenario in rated)
    return "" if have == len(rated) else f" (over {have} of {len(rated)} scenarios)"


def _pass_rates(summary: Summary, scenarios: Sequence[ScenarioResult]) -> str:
    if not summary.pass_hat_k:
        return "No trial ran, so there is no pass rate."
    rated = [scenario for scenario in scenarios if scenario.pass_hat_k]
    rates = " · ".join(
        f"pass^{k} **{percent(rate)}**{_over(k, rated)}" for k, rate in summary.pass_hat_k.items()
    )
    k = max(summary.pass_at_k)
    return (
        f"{rates} · pass@{k} {percent(summary.pass_at_k[k])}{_over(k, rated)}. pass^k is the chance that k "
        "attempts at a scenario all succeed (tau-bench), pass@k that at least one does; averaged over "
        "scenarios."
    )


def _scenario_counts(scenarios: Sequence[ScenarioResult]) -> str:
    states = [status(scenario) for scenario in scenarios]
    passed, failed, not_run = (states.count(state) for state in ("passed", "failed", "not run"))
    said = f"**{passed} of {len(states)} scenarios passed every trial**; {failed} failed at least once"
    return said + (f"; {not_run} could not run at all." if not_run else ".")


def _errors(summary: Summary, scenarios: Sequence[ScenarioResult]) -> str:
    if not summary.errors:
        return "No infrastructure error."
    hit = sum(bool(errored_trials(scenario)) for scenario in scenarios)
    return (
        f"Infrastructure errors: {_plural(summary.errors, 'trial')} in {_plural(hit, 'scenario')}, a "
        "failure of the test setup, not of the agent: left out of the pass rates, so a scenario that lost "
        "trials counts only for the k it still has (see the last section)."
    )


def _spend(summary: Summary) -> str:
    tokens = f"{summary.input_tokens:,} input and {summary.output_tokens:,} output tokens"
    cost = f"Cost {_usd(summary.cost_usd)} ({_usd(summary.cost_usd_per_trial)} per trial), {tokens}."
    latency = (
        f"A conversation took {_ms(summary.latency_ms_p50)} (median), {_ms(summary.latency_ms_p95)} (p95); "
        f"a tool call {_ms(summary.tool_latency_ms_p50)} and {_ms(summary.tool_latency_ms_p95)} over "
        f"{_plural(summary.tool_calls, 'call')}."
    )
    return f"{cost} {latency}"


def markdown(result: RunResult, chart: str | None = None) -> str:
    summary, scenarios = result.summary, result.scenarios
    lines = [
        f"# Conversation eval: {result.run.selection}",
        "",
        _what_ran(result),
        "",
        _scenario_counts(scenarios),
        "",
        _pass_rates(summary, scenarios),
        "",
        _errors(summary, scenarios),
        "",
        _spend(summary),
        *(["", f"![pass rates by tag]({chart})"] if chart else []),
        "",
        "## By tag",
        "",
        *_tag_table(summary),
        "",
        "## Scenarios",
        "",
        *_scenario_table(result),
        "",
        "## What failed",
        *_what_failed(_ordered(scenarios)),
        "",
        "## Infrastructure errors",
        *_infrastructure(scenarios),
        "",
        "Percentiles are nearest-rank over the trials (latency) and tool calls that ran; cost and tokens "
        "count every trial.",
    ]
    return "\n".join(lines) + "\n"


# The chart


def _chart_rows(summary: Summary) -> list[tuple[str, dict[int, float]]]:
    """'all scenarios' first, then the tags, the weakest first."""
    tags = sorted(summary.by_tag.items(), key=lambda item: (item[1].pass_hat_k.get(1, 2.0), item[0]))
    return [
        (f"all scenarios ({summary.scenarios})", summary.pass_hat_k),
        *((f"{tag} ({found.scenarios})", found.pass_hat_k) for tag, found in tags),
    ]


def _meaning(k: int) -> str:
    return "pass$^{1}$: one attempt succeeds" if k == 1 else f"pass$^{{{k}}}$: all {k} attempts succeed"


def _bars(ax: Axes, rows: Sequence[tuple[str, dict[int, float]]], ks: Sequence[int]) -> None:
    height = BAR if len(ks) > 1 else 1.6 * BAR
    for index, k in enumerate(ks):
        values = [rates.get(k) for _, rates in rows]
        offset = (index - (len(ks) - 1) / 2) * height
        bars = ax.barh(
            [position + offset for position in range(len(rows))],
            [value or 0.0 for value in values],
            height=height,
            label=_meaning(k),
            color="tab:blue" if k == 1 else "tab:orange",
        )
        ax.bar_label(bars, labels=[percent(value) for value in values], padding=3, fontsize=8)


def render_chart(result: RunResult) -> bytes:
    """PNG, 800 pixels wide: pass^1, and pass^k at the largest k when there were several trials, for
    all scenarios and per tag."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    rows = _chart_rows(result.summary)
    ks = sorted({1, max(result.summary.pass_hat_k, default=1)})
    figure = Figure(figsize=(WIDTH, max(2.5, 1.6 + 0.55 * len(rows))), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)  # attaches itself: the figure renders with Agg, whatever the global backend
    ax = figure.add_subplot()
    _bars(ax, rows, ks)
    ax.set_yticks(range(len(rows)), [label for label, _ in rows])
    ax.invert_yaxis()  # the first row on top
    ax.axhline(0.5, color="grey", linewidth=0.8)  # all scenarios above, the tags below
    ax.set_xlim(0, 1.15)  # room for the labels of full bars
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1))
    ax.grid(axis="x", alpha=0.3)
    figure.legend(loc="outside lower center", ncols=len(ks), fontsize=8)
    run = result.run
    ax.set_title(
        f"{run.agent} agent · {run.transport} · {run.backend} · {_plural(run.trials, 'trial')}", fontsize=9
    )
    figure.suptitle("Pass rate by tag (scenarios in brackets)", fontsize=12)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()
