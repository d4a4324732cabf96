"""The period-total backtests scored per origin bucket and per series type, against issue 18's targets:
coverage of the 80% and 95% intervals with the number of outcomes behind it (and, below
`MIN_OUTCOMES`, the 90% Clopper-Pearson interval of the observed coverage), the Brier score of the
overrun probability beside the base rate's, and the APE of the period total beside the naive baselines'.
`evals/forecast_periods.py` makes the outcomes; `evals/forecast_report.py` puts these in the report."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from typing import Any

from evals import forecast_metrics as metrics
from evals.forecast_periods import BUCKETS, Outcome
from evals.reports import percent, table

MIN_OUTCOMES = 100  # below this, a coverage is judged by its binomial interval
INTERVAL_LEVEL = 0.90
LEVELS = {"80": (0.80, (0.75, 0.85)), "95": (0.95, (0.90, 0.98))}  # nominal, target band
BRIER_FLOOR = 0.05  # Brier must beat the base rate where the base rate is above this
OWA_TARGET = 0.85
PERIOD_BASELINES = {"naive": "naive", "snaive": "last year's same days", "naive2": "naive2 (M4)"}
BUCKET_NAMES = {"early": "early (first third)", "middle": "middle third", "late": "late (last third)"}


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def coverage(inside: Sequence[bool], level: str) -> dict[str, Any]:
    nominal, (low, high) = LEVELS[level]
    n, hits, share = len(inside), sum(inside), metrics.coverage(inside)
    interval = metrics.binomial_interval(hits, n, INTERVAL_LEVEL)
    contains = None if interval is None else interval[0] <= nominal <= interval[1]
    meets = contains if n < MIN_OUTCOMES else share is not None and low <= share <= high
    return {
        "n": n,
        "coverage": _round(share),
        "interval_90": None if interval is None else [round(interval[0], 4), round(interval[1], 4)],
        "contains_nominal": contains,
        "meets_target": meets,
    }


def calibration_scores(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    over = [o.over for o in outcomes]
    score = metrics.brier([o.probability for o in outcomes], over)
    reference = metrics.brier_base_rate(over)
    found = {level: coverage([_inside(o, level) for o in outcomes], level) for level in LEVELS}
    return {
        "n": len(outcomes),
        "coverage_80": found["80"]["coverage"],
        "coverage_95": found["95"]["coverage"],
        "coverage": found,
        "brier": _round(score),
        "brier_base_rate": _round(reference),
        "brier_skill": _round(metrics.brier_skill(score, reference)),
        "overrun_rate": _round(statistics.fmean(over) if over else None),
    }


def _inside(outcome: Outcome, level: str) -> bool:
    return outcome.inside_80 if level == "80" else outcome.inside_95


def ape_scores(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Mean and median APE of the engine and each baseline on the same outcomes: those with spend in the
    period and every baseline defined (last year's needs a year of history)."""
    usable = [o for o in outcomes if o.actual != 0 and all(v is not None for v in o.baselines.values())]
    methods: dict[str, Callable[[Outcome], float]] = {"engine": lambda o: o.expected}
    methods.update({name: _baseline(name) for name in PERIOD_BASELINES})
    found = {name: _ape(usable, guess) for name, guess in methods.items()}
    if not usable:
        return {"n": 0, "left_out": len(outcomes), "methods": found, "best_naive": None, "meets_target": None}
    best = {stat: _best(found, stat) for stat in ("mean", "median")}
    engine = found["engine"]
    return {
        "n": len(usable),
        "left_out": len(outcomes) - len(usable),
        "methods": found,
        "best_naive": {stat: {"method": name, "ape": found[name][stat]} for stat, name in best.items()},
        "meets_target": all(_value(engine[stat]) <= _value(found[best[stat]][stat]) for stat in best),
    }


def _best(found: dict[str, dict[str, float | None]], stat: str) -> str:
    """The baseline with the lowest `stat` (mean or median APE)."""
    return min(PERIOD_BASELINES, key=lambda name: _value(found[name][stat]))


def _value(found: float | None) -> float:
    return float("inf") if found is None else found


def _baseline(name: str) -> Callable[[Outcome], float]:
    return lambda outcome: outcome.baselines[name] or 0.0


def _ape(outcomes: Sequence[Outcome], guess: Callable[[Outcome], float]) -> dict[str, float | None]:
    errors = [metrics.ape(o.actual, guess(o)) or 0.0 for o in outcomes]
    if not errors:
        return {"mean": None, "median": None}
    return {"mean": _round(statistics.fmean(errors)), "median": _round(statistics.median(errors))}


def by_bucket(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    return {
        bucket: {
            **calibration_scores(picked),
            "ape": ape_scores(picked),
        }
        for bucket in BUCKETS
        for picked in [[o for o in outcomes if o.bucket == bucket]]
    }


def by_shape(outcomes: Sequence[Outcome]) -> dict[str, dict[str, Any]]:
    shapes = sorted({o.shape for o in outcomes})
    return {
        shape: {
            bucket: calibration_scores([o for o in outcomes if o.shape == shape and o.bucket == bucket])
            for bucket in BUCKETS
        }
        for shape in shapes
    }


def targets(section: dict[str, Any], owa: float | None) -> list[dict[str, Any]]:
    """Issue 18's targets, each with `met` (True, False, or None when this eval cannot tell)."""
    buckets = section["by_bucket"]
    found = [_coverage_target(buckets, level) for level in LEVELS]
    misses = [
        f"{shape} {bucket} ({scores['brier']:.3f} vs {scores['brier_base_rate']:.3f}, n={scores['n']})"
        for shape, per_bucket in section["by_shape"].items()
        for bucket, scores in per_bucket.items()
        if scores["n"]
        and (scores["brier_base_rate"] or 0) > BRIER_FLOOR
        and scores["brier"] >= scores["brier_base_rate"]
    ]
    found.append(
        {
            "target": f"Brier below the base rate for every series type whose base rate is above "
            f"{BRIER_FLOOR}, at every origin bucket",
            "met": not misses,
            "detail": "; ".join(misses) or "all",
        }
    )
    ape = [buckets[bucket]["ape"] for bucket in BUCKETS]
    found.append(
        {
            "target": "mean and median APE of the period total <= the best naive baseline's, every bucket",
            "met": None
            if any(one["meets_target"] is None for one in ape)
            else all(a["meets_target"] for a in ape),
            "detail": "; ".join(_ape_detail(bucket, buckets[bucket]["ape"]) for bucket in BUCKETS),
        }
    )
    found.append(
        {
            "target": f"OWA <= {OWA_TARGET} against naive2 (monthly totals; the issue's target: real series)",
            "met": None if owa is None else owa <= OWA_TARGET,
            "detail": "n/a" if owa is None else f"{owa:.3f}",
        }
    )
    found.append(
        {
            "target": "forecast_budget p95 <= 150 ms, forecast_budgets cold <= 2.5 s (large company)",
            "met": None,
            "detail": "not measured here: python -m bench.forecast",
        }
    )
    return found


def _coverage_target(buckets: dict[str, Any], level: str) -> dict[str, Any]:
    nominal, (low, high) = LEVELS[level]
    cells = [buckets[bucket]["coverage"][level] for bucket in BUCKETS]
    return {
        "target": f"{level}% interval coverage within {low:.0%}-{high:.0%} in every origin bucket "
        f"(under {MIN_OUTCOMES} outcomes: the 90% binomial interval contains {nominal:.0%})",
        "met": all(cell["meets_target"] for cell in cells),
        "detail": "; ".join(
            f"{bucket} {_coverage_text(cell)}" for bucket, cell in zip(BUCKETS, cells, strict=True)
        ),
    }


def _ape_detail(bucket: str, found: dict[str, Any]) -> str:
    engine, best = found["methods"]["engine"], found["best_naive"]
    if best is None:
        return f"{bucket} n/a"
    return (
        f"{bucket} {percent(engine['mean'])} / {percent(engine['median'])} vs "
        f"{percent(best['mean']['ape'])} / {percent(best['median']['ape'])}"
    )


def _best_cell(best: dict[str, Any] | None) -> str:
    if best is None:
        return "n/a"
    mean, median = best["mean"], best["median"]
    names = f"{PERIOD_BASELINES[mean['method']]} / {PERIOD_BASELINES[median['method']]}"
    return f"{percent(mean['ape'])} / {percent(median['ape'])} ({names})"


def _coverage_text(cell: dict[str, Any]) -> str:
    text = f"{percent(cell['coverage'])} (n={cell['n']}"
    if cell["n"] < MIN_OUTCOMES and cell["interval_90"] is not None:
        low, high = cell["interval_90"]
        text += f", 90% CI {low:.0%}-{high:.0%}"
    return text + ")"


def _mark(met: bool | None) -> str:
    return "—" if met is None else "✓" if met else "✗"


def _coverage_cell(cell: dict[str, Any]) -> str:
    return f"{_coverage_text(cell)} {_mark(cell['meets_target'])}"


def _brier_cell(scores: dict[str, Any]) -> str:
    if scores["brier"] is None:
        return "n/a"
    return f"{scores['brier']:.3f} ({scores['brier_base_rate']:.3f}, n={scores['n']})"


def markdown(section: dict[str, Any]) -> list[str]:
    """The targets, the issue's table per origin bucket, and the tables per series type and per method."""
    buckets = section["by_bucket"]
    headline = [
        (
            BUCKET_NAMES[bucket],
            str(found["n"]),
            f"{percent(found['ape']['methods']['engine']['mean'])} / "
            f"{percent(found['ape']['methods']['engine']['median'])} (n={found['ape']['n']})",
            _best_cell(found["ape"]["best_naive"]),
            _coverage_cell(found["coverage"]["80"]),
            _coverage_cell(found["coverage"]["95"]),
            _brier_cell(found),
        )
        for bucket, found in buckets.items()
    ]
    per_shape = [
        (shape, BUCKET_NAMES[bucket], str(scores["n"]), _coverage_cell(scores["coverage"]["80"]),
         _coverage_cell(scores["coverage"]["95"]), _brier_cell(scores))
        for shape, per_bucket in section["by_shape"].items()
        for bucket, scores in per_bucket.items()
    ]  # fmt: skip
    methods = ["engine", *PERIOD_BASELINES]
    per_method = [
        (
            BUCKET_NAMES[bucket],
            str(found["ape"]["n"]),
            *(
                f"{percent(found['ape']['methods'][name]['mean'])} / "
                f"{percent(found['ape']['methods'][name]['median'])}"
                for name in methods
            ),
        )
        for bucket, found in buckets.items()
    ]
    return [
        f"## Period totals by origin bucket ({section['periods']} ended budget periods, each forecast "
        f"from the day before it starts and every {section['origin_step']} days after)",
        "",
        "Origin bucket: the share of the period gone on the as-of day. Coverage: the share of actual totals "
        f"inside the interval, with the outcomes behind it; under {MIN_OUTCOMES} outcomes, the 90% "
        "Clopper-Pearson interval of that share, and ✓ when it contains the nominal level. Brier of the "
        "overrun probability (the base rate's Brier, outcomes). APE: outcomes with spend in the period "
        "and every baseline defined.",
        "",
        *table(
            (
                "origin bucket",
                "outcomes",
                "APE mean / median",
                "best naive: mean / median",
                "80% coverage",
                "95% coverage",
                "Brier (base rate, n)",
            ),
            headline,
        ),
        "",
        "### By series type",
        "",
        *table(
            ("series type", "origin bucket", "outcomes", "80% coverage", "95% coverage", "Brier"), per_shape
        ),
        "",
        "### APE of the period total: every method (mean / median)",
        "",
        *table(
            ("origin bucket", "outcomes", *(PERIOD_BASELINES.get(name, name) for name in methods)), per_method
        ),
    ]


def targets_markdown(found: Sequence[dict[str, Any]]) -> list[str]:
    return [
        "## Targets (issue 18)",
        "",
        *table(("target", "met", "measured"), [(t["target"], _mark(t["met"]), t["detail"]) for t in found]),
    ]
