"""The Markdown of `outlay eval review` (evals/review.py): the targets first, then each label's counts,
what was missed and what was found outside the key, then the real ledgers' counts and samples."""

from __future__ import annotations

from typing import Any

from evals.reports import percent, table

REAL_INTRO = [
    "## Real card data: how it was reviewed",
    "",
    "The councils publish no approval policy and no card limits, so no rule is checked: the patterns "
    "only, at their defaults (duplicates within 3 days, round runs of 3 multiples of 50 within 30 days, "
    "refunds looked back 120 days, new merchants' first charge above 1,000, spikes 5 times the usual), "
    "and one assumed limit for split purchases: a single-transaction card limit of 1,000 GBP, a common "
    "purchase-card limit in UK councils' card policies (which range from 500 to 5,000 GBP); the "
    "approval thresholds, unknown, are none. The exports name no card holder and no card, so the payer "
    "is the team (Calderdale's expense area, Birmingham's directorate): splits and round runs are "
    "a team's at one merchant, and there are no spikes (they need an employee). Every merchant is new "
    "in the first months of a ledger, so early large charges count as new merchants.",
    "",
]
HEADER = ("label", "key cases", "recalled", "findings", "correct", "precision", "recall", "target", "met")


def markdown(report: dict[str, Any]) -> str:
    demo = report["demo"]
    lines = [
        f"# review_expenses on the demo ({demo['size']}, seed {demo['seed']}, {report['backend']})",
        "",
        f"{demo['expenses']:,} expenses; answer key: {demo['key'].get('injected', 0):,} planted and "
        f"{demo['key'].get('natural', 0):,} natural cases; {demo['findings']:,} findings. Import "
        f"{demo['import_seconds']} s, review (every month, every page, through the tool) "
        f"{demo['review_seconds']} s.",
        "",
        f"**Targets (precision and recall >= 95% per rule kind, >= 85% per pattern): "
        f"{'met' if demo['targets_met'] else 'NOT met'}.**",
        "",
        "## Per rule kind",
        "",
        *table(HEADER, [_row(s) for s in demo["rule_kinds"]]),
        "",
        "## Per pattern",
        "",
        *table(HEADER, [_row(s) for s in demo["patterns"]]),
        "",
        "## Per rule of the demo's policy",
        "",
        *table(HEADER, [_row(s) for s in demo["rules"]]),
        "",
        "Recall of the planted cases alone: "
        + ", ".join(f"{label} {percent(value)}" for label, value in demo["injected_recall"].items()),
        "",
        *_examples("Missed (key cases no finding matches)", demo["missed"]),
        *_examples("Unexpected (findings outside the key)", demo["unexpected"]),
    ]
    if report.get("real"):
        lines += REAL_INTRO
    for name, found in (report.get("real") or {}).items():
        lines += _real(name, found)
    if report.get("real_skipped"):
        lines += ["## Real card data", "", report["real_skipped"], ""]
    return "\n".join(lines) + "\n"


def _row(score: dict[str, Any]) -> list[str]:
    return [
        score["label"],
        f"{score['cases']:,}",
        f"{score['recalled']:,}",
        f"{score['findings']:,}",
        f"{score['correct']:,}",
        percent(score["precision"]),
        percent(score["recall"]),
        f">= {score['target']:.0%}",
        "yes" if score["met"] else "**no**",
    ]


def _examples(title: str, examples: dict[str, list[list[str]]]) -> list[str]:
    if not examples:
        return [f"{title}: none.", ""]
    return [
        f"{title}, up to 5 per label:",
        "",
        *(f"- {label}: {'; '.join(' '.join(refs) for refs in found)}" for label, found in examples.items()),
        "",
    ]


def _real(name: str, found: dict[str, Any]) -> list[str]:
    counts = ", ".join(f"{kind} {count:,}" for kind, count in found["by_kind"].items()) or "none"
    return [
        f"## Real card data: {name}",
        "",
        f"{found['expenses']:,} expenses from {found['span'][0]} to {found['span'][1]}, reviewed month by "
        f"month in {found['review_seconds']} s with patterns only (policy: `{found['policy']}`). "
        f"{found['findings']:,} findings: {counts}.",
        "",
        f"A sample of {len(found['sample_rows'])} for a person to judge: `{found['sample']}`, beside this "
        "report (fill in `verdict`).",
        "",
        *table(
            ("n", "kind", "expenses", "at stake", "reason"),
            [[r["n"], r["kind"], r["expenses"], r["at_stake"], r["reason"]] for r in found["sample_rows"]],
        ),
        "",
    ]
