"""`outlay eval approvers`: replay a company's approval history through the approval engine.

Each past request is routed again as it would have been when it was submitted: the engine sees the
request, the organisation, the policy, absences on the submission day, and a ranking built only from
the decisions made before that moment (and the requests then waiting on each person). Scored against
the people who actually decided:

- exact chain match: of the approved requests, the share whose whole chain (who acted at each step, in
  order) is the one the engine names; also without the history-aware ranking, to show what it adds;
- per-step match: of all decisions, the share where the engine names the person who decided (and the
  person whose step it was, delegation aside); per policy requirement;
- policy violations: problems `tools.approvers.invariants` finds in the engine's chains (the requester,
  someone without authority or away, twice the same person, a required step missing, and breaches of
  the policy's controls: someone below the requester, a delegate's step covering another requirement,
  fewer signers than a rule's `min_distinct_approvers`). Must be 0. The report says which controls
  the policy has on, since the history is only comparable under the same ones.

Then the tool's latency through an in-memory MCP client on the same database. JSON and Markdown go to
`var/evals/approvers-<company>.{json,md}` (`--out evals/results`: the committed ones).
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcp import Client
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from evals.folders import RESULTS
from evals.reports import percent, table, write_report
from server.app import build_server
from server.context import Clock
from server.db.engine import create_engine, create_session_factory
from server.db.models import Company
from server.errors import NotFound
from server.kit.approval_policy import Policy
from server.kit.money import format_amount
from server.settings import Settings
from tools.approvers import queries
from tools.approvers.chain import Chain
from tools.approvers.engine import evaluate
from tools.approvers.invariants import violations
from tools.approvers.ranking import Decision, History

EXAMPLES = 15


@dataclass(frozen=True)
class Books:
    """What the replay reads from the database."""

    slug: str
    currency: str
    policy: Policy
    snapshot: queries.Snapshot
    requests: list[queries.StoredRequest]  # in submission order
    decisions: dict[int, list[queries.PastDecision]]  # per request id, in step order


@dataclass
class Score:
    requests: int = 0
    approved: int = 0
    exact: int = 0
    exact_policy_only: int = 0
    decisions: int = 0
    step_matches: int = 0
    principal_matches: int = 0
    violations: int = 0
    requests_with_violations: int = 0
    incomplete: int = 0
    by_requirement: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    mismatches: list[dict[str, Any]] = field(default_factory=list)
    violation_examples: list[str] = field(default_factory=list)


async def run(settings: Settings, *, latency_calls: int = 200) -> dict[str, Any]:
    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as session:
            books = await load(session, settings.company)
    finally:
        await engine.dispose()
    started = time.perf_counter()
    score = replay(books)
    replay_seconds = time.perf_counter() - started
    latency = await measure_latency(settings, books, latency_calls)
    backend = make_url(settings.database_url).get_backend_name()
    return {
        "backend": backend,
        "today": str(Clock(settings.today).today()),
        **_report(books, score, replay_seconds, latency),
    }


def write(report: dict[str, Any], out: Path = RESULTS) -> list[Path]:
    """The report as JSON and as Markdown in `out`; the paths written."""
    return write_report(out, f"approvers-{report['company']}", report, markdown(report))


async def load(session: AsyncSession, slug: str | None) -> Books:
    company = await _company(session, slug)
    found = await queries.current_policy(session, company.id)
    if found is None:
        raise NotFound(f"company {company.slug!r} has no approval policy")
    stored = [request for request, _ in await queries.requests(session, company.id)]
    decisions: dict[int, list[queries.PastDecision]] = defaultdict(list)
    for past in sorted(
        await queries.past_decisions(session, company.id), key=lambda d: (d.request_id, d.step)
    ):
        decisions[past.request_id].append(past)
    return Books(
        company.slug,
        company.currency,
        Policy.model_validate(found[1]),
        await queries.snapshot(session, company.id, company.currency),
        sorted(stored, key=lambda r: (r.submitted_at, r.id)),
        dict(decisions),
    )


async def _company(session: AsyncSession, slug: str | None) -> Company:
    query = select(Company) if slug is None else select(Company).where(Company.slug == slug)
    companies = list((await session.scalars(query.limit(2))).all())
    if len(companies) != 1:
        raise NotFound(
            f"no company {slug!r}" if slug else "set OUTLAY_COMPANY: not exactly one company is loaded"
        )
    return companies[0]


def replay(books: Books) -> Score:
    """Route every past request again, in submission order, with what was known at the time."""
    org, score = books.snapshot.org, Score()
    history = History(org)
    timeline = sorted((d for ds in books.decisions.values() for d in ds), key=lambda d: d.decided_at)
    known = 0
    for index, request in enumerate(books.requests):
        while known < len(timeline) and timeline[known].decided_at < request.submitted_at:
            history.add(_decision(timeline[known]))
            history.add_typical(_decision(timeline[known]).hours)
            known += 1
        history.pending = _waiting(books, books.requests[:index], request.submitted_at)
        day = request.submitted_at.date()
        chain = evaluate(books.policy, org, request.spend, day, history.preference(request.spend))
        unranked = evaluate(books.policy, org, request.spend, day)
        _score(score, books, request, chain, unranked)
    return score


def _decision(past: queries.PastDecision) -> Decision:
    hours = max((past.decided_at - past.since).total_seconds() / 3600, 0.0)
    return Decision(past.team, past.category, past.principal, past.approver, hours)


def _waiting(books: Books, earlier: list[queries.StoredRequest], moment: dt.datetime) -> Counter[str]:
    """Who the requests in flight at `moment` were waiting on: the decider of their next decision."""
    waiting: Counter[str] = Counter()
    for request in earlier[-500:]:  # requests submitted long before are decided by now
        upcoming = [d for d in books.decisions.get(request.id, []) if d.decided_at >= moment]
        if upcoming:
            waiting[upcoming[0].approver] += 1
    return waiting


def _score(score: Score, books: Books, request: queries.StoredRequest, chain: Chain, unranked: Chain) -> None:
    actual = books.decisions.get(request.id, [])
    steps = [step for step in chain.steps if step.pick is not None]
    predicted = [step.pick.approver for step in steps if step.pick]
    score.requests += 1
    score.incomplete += not chain.complete
    problems = violations(books.policy, books.snapshot.org, request.spend, request.submitted_at.date(), chain)
    score.violations += len(problems)
    score.requests_with_violations += bool(problems)
    room = EXAMPLES - len(score.violation_examples)
    score.violation_examples += [f"{request.ref}: {problem}" for problem in problems][:room]
    for position, past in enumerate(actual):
        step = steps[position] if position < len(steps) else None
        requirement = step.requirement if step else "(beyond the engine's chain)"
        matched = step is not None and step.pick is not None and step.pick.approver == past.approver
        score.decisions += 1
        score.step_matches += matched
        score.principal_matches += (
            step is not None and step.pick is not None and step.pick.assignee == past.principal
        )
        score.by_requirement[requirement]["steps"] += 1
        score.by_requirement[requirement]["matched"] += matched
    if request.status == "approved":
        score.approved += 1
        wanted = [past.approver for past in actual]
        score.exact += predicted == wanted
        score.exact_policy_only += [s.pick.approver for s in unranked.steps if s.pick] == wanted
        if predicted != wanted and len(score.mismatches) < EXAMPLES:
            score.mismatches.append(_mismatch(books, request, wanted, predicted))


def _mismatch(
    books: Books, request: queries.StoredRequest, wanted: list[str], got: list[str]
) -> dict[str, Any]:
    org, spend = books.snapshot.org, request.spend
    return {
        "request": request.ref,
        "team": spend.team,
        "category": spend.category,
        "amount": f"{format_amount(spend.amount_minor, books.currency)} {books.currency}",
        "decided_by": [org.name(email) for email in wanted],
        "engine": [org.name(email) for email in got],
    }


async def measure_latency(settings: Settings, books: Books, calls: int) -> dict[str, Any]:
    """suggest_approver through an in-memory MCP client: half by request id, half by details."""
    if calls <= 0 or not books.requests:
        return {"calls": 0}
    picked = [books.requests[i * len(books.requests) // calls] for i in range(calls)]
    arguments: list[dict[str, Any]] = [
        {"request_id": r.ref}
        if i % 2 == 0
        else {
            "requester": r.spend.requester,
            "amount": format_amount(r.amount_minor, r.currency),
            "currency": r.currency,
            "category": r.spend.category or "",
            "team": r.spend.team,
            "payment_type": r.spend.payment_type,
        }
        for i, r in enumerate(picked)
    ]
    server = build_server(settings.model_copy(update={"company": books.slug}), local_company=books.slug)
    timings, errors = [], 0
    async with Client(server) as client:
        await client.call_tool("suggest_approver", arguments[0])  # warm-up: pool, statement caches
        for call in arguments:
            started = time.perf_counter()
            result = await client.call_tool("suggest_approver", call)
            timings.append((time.perf_counter() - started) * 1000)
            errors += bool(result.is_error)
    quantiles = statistics.quantiles(timings, n=100, method="inclusive") if len(timings) > 1 else timings * 99
    return {
        "calls": calls,
        "errors": errors,
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(quantiles[94], 2),
        "max_ms": round(max(timings), 2),
    }


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def controls(policy: Policy) -> dict[str, Any]:
    """The policy's controls as the report shows them."""
    return {
        **policy.controls.model_dump(),
        "min_distinct_approvers": {
            rule.name: rule.min_distinct_approvers for rule in policy.rules if rule.min_distinct_approvers
        },
    }


def _report(books: Books, score: Score, replay_seconds: float, latency: dict[str, Any]) -> dict[str, Any]:
    return {
        "company": books.slug,
        "controls": controls(books.policy),
        "requests": score.requests,
        "approved_requests": score.approved,
        "decisions": score.decisions,
        "exact_chain_match": _share(score.exact, score.approved),
        "exact_chain_match_policy_only": _share(score.exact_policy_only, score.approved),
        "per_step_match": _share(score.step_matches, score.decisions),
        "per_step_principal_match": _share(score.principal_matches, score.decisions),
        "policy_violations": score.violations,
        "requests_with_violations": score.requests_with_violations,
        "incomplete_chains": score.incomplete,
        "by_requirement": {
            name: {"steps": counts["steps"], "match": _share(counts["matched"], counts["steps"])}
            for name, counts in sorted(score.by_requirement.items())
        },
        "replay_seconds": round(replay_seconds, 2),
        "latency": latency,
        "mismatches": score.mismatches,
        "violation_examples": score.violation_examples,
    }


def _controls_text(controls: dict[str, Any]) -> str:
    on = [name for name in ("no_approval_from_below", "delegate_covers_own_step_only") if controls[name]]
    signers = [f"{count} signers ({rule})" for rule, count in controls["min_distinct_approvers"].items()]
    return ", ".join(on + signers) or "none"


def markdown(report: dict[str, Any]) -> str:
    latency = report["latency"]
    counts = f"{report['requests']} ({report['approved_requests']} approved, {report['decisions']} decisions)"
    p50, p95, calls = (latency.get(key, "n/a") for key in ("p50_ms", "p95_ms", "calls"))
    speed = f"{p50} ms / {p95} ms ({calls} calls)"
    rows = [
        ("requests replayed", counts),
        ("exact chain match (approved requests)", percent(report["exact_chain_match"])),
        ("exact chain match without the history ranking", percent(report["exact_chain_match_policy_only"])),
        ("per-step match (who decided)", percent(report["per_step_match"])),
        ("per-step match (whose step it was)", percent(report["per_step_principal_match"])),
        ("policy violations (must be 0)", str(report["policy_violations"])),
        ("chains with a step nobody may take", str(report["incomplete_chains"])),
        ("controls on", _controls_text(report["controls"])),
        ("suggest_approver p50 / p95, in-memory client", speed),
        ("database, today", f"{report['backend']}, {report['today']}"),
    ]
    lines = [
        f"# Approver eval: {report['company']}",
        "",
        "Every past approval request replayed through the engine as of its submission (absences that day,",
        "ranking from the decisions made before it), compared with who actually decided.",
        "",
        *table(("metric", "value"), rows),
        "",
        "## Per policy requirement",
        "",
        *table(
            ("requirement", "decisions", "match"),
            [
                (f"`{name}`", str(row["steps"]), percent(row["match"]))
                for name, row in report["by_requirement"].items()
            ],
        ),
    ]
    if report["mismatches"]:
        header = ("request", "team", "category", "amount", "decided by", "engine")
        found = [
            (
                m["request"],
                m["team"],
                m["category"] or "",
                m["amount"],
                ", ".join(m["decided_by"]),
                ", ".join(m["engine"]),
            )
            for m in report["mismatches"]
        ]
        lines += ["", "## Chains that differ (the first ones)", "", *table(header, found)]
    if report["violation_examples"]:
        lines += ["", "## Violations", "", *(f"- {v}" for v in report["violation_examples"])]
    return "\n".join(lines) + "\n"
