"""`outlay eval run` and `outlay eval gate`: the command-line face of the conversation harness."""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

import anyio

from evals.folders import RESULTS
from evals.harness.agents import Agent
from evals.harness.fixtures import FixtureDatabases, fixture_named
from evals.harness.gate import compare, format_verdict
from evals.harness.live import LiveAgent
from evals.harness.loading import SCENARIOS, ScenarioError, load_scenarios, select
from evals.harness.report import write_report
from evals.harness.results import RunResult
from evals.harness.runner import RunOptions, run_scenarios
from evals.harness.scenario import Scenario
from evals.harness.sessions import Transport
from server.progress import progress
from server.settings import Settings

EXIT_FAILED, EXIT_USAGE = 1, 2


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Load, run, report, gate. The exit status says whether every trial passed (and the gate held)."""
    try:
        scenarios = _selected(args)
    except ScenarioError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_USAGE
    if not scenarios:
        print("no scenario matches the selection", file=sys.stderr)
        return EXIT_USAGE
    if args.trials < 1:
        print("--trials must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    try:
        agent = _agent(settings, args)
        # Read before the run: a wrong path should not be found out only once every trial has run.
        baseline = RunResult.read(args.baseline) if args.baseline else None
    except (OSError, ValueError) as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    options = RunOptions(
        transport=Transport(args.transport),
        trials=args.trials,
        concurrency=args.concurrency,
        selection=_selection(args),
        model=getattr(agent, "model", None),
        provider=getattr(agent, "provider", None),
    )
    # In-memory servers log every call to this process's stderr; the harness reports per trial instead.
    for name in ("outlay", "httpx2", "mcp"):
        logger = logging.getLogger(name)
        logger.setLevel(max(logging.WARNING, logger.getEffectiveLevel()))
    result = anyio.run(_run, scenarios, agent, options, args)
    stem = args.name or f"conversations-{result.run.agent}-{result.run.backend}"
    written = write_report(result, args.out or RESULTS, stem)
    summary = result.summary
    print(
        f"{summary.scenarios} scenarios x {summary.trials} trial(s): {summary.passed} passed, "
        f"{summary.failed} failed, {summary.errors} infrastructure errors; "
        + ", ".join(f"pass^{k} {value:.3f}" for k, value in sorted(summary.pass_hat_k.items()))
        + f"\nreport: {', '.join(str(path) for path in written)}",
        file=sys.stderr,
    )
    ok = summary.failed == 0 and summary.errors == 0
    if baseline is not None:
        verdict = compare(result, baseline, latency_floor_ms=args.latency_floor_ms)
        print(format_verdict(verdict), file=sys.stderr)
        ok = ok and verdict.passed
    return 0 if ok else EXIT_FAILED


def gate(args: argparse.Namespace) -> int:
    """Compare two results files (`outlay eval gate CURRENT --baseline BASELINE`)."""
    try:
        current, baseline = RunResult.read(args.current), RunResult.read(args.baseline)
    except (OSError, ValueError) as exc:
        print(f"cannot read the results: {exc}", file=sys.stderr)
        return EXIT_USAGE
    verdict = compare(current, baseline, latency_floor_ms=args.latency_floor_ms)
    print(format_verdict(verdict), file=sys.stderr)
    return 0 if verdict.passed else EXIT_FAILED


async def _run(
    scenarios: list[Scenario], agent: Agent, options: RunOptions, args: argparse.Namespace
) -> RunResult:
    with (
        tempfile.TemporaryDirectory(prefix="outlay-eval-") as workdir,
        progress("eval: trials", total=len(scenarios) * options.trials) as trials,
    ):

        def finished(line: str) -> None:  # a line per trial, unless --quiet; the bar either way
            if not args.quiet:
                trials.note(line)
            trials.advance()

        databases = FixtureDatabases(Path(workdir), args.postgres_url)
        try:
            return await run_scenarios(scenarios, agent, databases, options, progress=finished)
        finally:
            with anyio.CancelScope(shield=True):
                await databases.close()
                if isinstance(agent, LiveAgent):
                    await agent.aclose()


def _selected(args: argparse.Namespace) -> list[Scenario]:
    scenarios = load_scenarios(args.paths or [SCENARIOS])
    tags = [tag.strip() for tag in (args.tags or "").split(",") if tag.strip()]
    chosen = select(scenarios, tags=tags, ids=args.ids)
    problems = []
    for name in sorted({scenario.fixture for scenario in chosen}):
        try:
            fixture_named(name)
        except LookupError as exc:
            problems.append(str(exc.args[0]))
    if problems:
        raise ScenarioError(problems)
    return chosen


def _selection(args: argparse.Namespace) -> str:
    parts = [", ".join(str(path) for path in args.paths) or "all scenarios"]
    if args.tags:
        parts.append(f"tags {args.tags}")
    if args.ids:
        parts.append(f"ids {', '.join(args.ids)}")
    return "; ".join(parts)


def _agent(settings: Settings, args: argparse.Namespace) -> Agent:
    from evals.harness.agents import ScriptedAgent
    from evals.harness.live import live_agent, replay_agent

    if args.agent == "scripted":
        return ScriptedAgent()
    if args.agent == "replay":
        if args.recordings is None or not args.recordings.is_dir():
            raise ValueError("--agent replay needs --recordings DIR, the folder a live run recorded into")
        return replay_agent(args.recordings)
    gateway = settings.gateway
    if gateway.provider == "none":
        raise ValueError(
            "--agent live needs a model: set OUTLAY_GATEWAY__PROVIDER=anthropic (and "
            "OUTLAY_GATEWAY__ANTHROPIC_API_KEY) or bedrock (docs/model-gateway.md)"
        )
    # The gateway's defaults suit one-shot categorization; an agent's turn reads long tool results.
    roomier = {
        "deadline_seconds": max(gateway.deadline_seconds, 90.0),
        "attempt_timeout_seconds": max(gateway.attempt_timeout_seconds, 60.0),
        "max_tokens": max(gateway.max_tokens, 2048),
    }
    return live_agent(
        gateway.model_copy(update=roomier), record=args.record, simulated_user=args.simulated_user
    )
