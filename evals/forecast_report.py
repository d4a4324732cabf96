"""The forecast eval's scores and report: what one backtest recorded, the M4 aggregates over all of them,
the JSON (stable keys) and the Markdown tables. `evals/forecast.py` runs the backtests; the period totals
per origin bucket and the targets are scored in `evals/forecast_buckets.py`."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evals import forecast_buckets as buckets
from evals import forecast_metrics as metrics
from evals.folders import RESULTS
from evals.forecast_metrics import Floats, Scale
from evals.forecast_periods import ORIGIN_STEP, Outcome
from evals.reports import percent, table, write_report
from tools.forecast.engine import DEFAULT_MODEL
from tools.forecast.history import month_label
from tools.forecast.queries import Scope

BASELINES = {"naive": "naive", "snaive": "seasonal naive", "naive2": "naive2 (M4)"}
SERIES_TYPES = ("team", "team+category")
TARGETS = {"owa": "<= 0.85 against naive2"}
FEW = (1, 5)  # forecasts left out to show how much an OWA rests on a few (`fragility`)


@dataclass(frozen=True)
class Series:
    """A budget scope as a monthly series."""

    scope: Scope
    kind: str  # team | team+category
    label: str  # "Sales", "Sales / TRAVEL"
    shape: str = "other"  # the series type: seasonal, trend, level shift, ...


@dataclass
class Point:
    """One series forecast from one origin: the actual next months and each method's forecast of them."""

    series: Series
    origin: int  # month index; the forecast is made at its last day
    actual: Floats
    scale: Scale  # the MASE denominator (never None for a scored point)
    naive2_seasonal: bool
    forecasts: dict[str, Floats]  # method -> the HORIZON forecasts


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def accuracy(points: Sequence[Point], method: str, step: int | None = None) -> tuple[float, float] | None:
    """Mean sMAPE and mean MASE over every forecast point (one horizon `step` only, if given)."""
    if not points:
        return None
    pick = slice(None) if step is None else slice(step, step + 1)
    smapes = [metrics.smape_terms(p.actual[pick], p.forecasts[method][pick]) for p in points]
    ases = [metrics.ase_terms(p.actual[pick], p.forecasts[method][pick], p.scale.value or 1) for p in points]
    return float(np.mean(np.concatenate(smapes))), float(np.mean(np.concatenate(ases)))


def summary(points: Sequence[Point], method: str, step: int | None = None) -> dict[str, float | None]:
    found, reference = accuracy(points, method, step), accuracy(points, "naive2", step)
    if found is None or reference is None:
        return {"smape": None, "mase": None, "owa": None}
    return {
        "smape": _round(found[0]),
        "mase": _round(found[1]),
        "owa": _round(metrics.owa(*found, *reference)),
    }


def scores(points: Sequence[Point], method: str, horizon: int) -> dict[str, Any]:
    return {
        **summary(points, method),
        "by_horizon": {str(step + 1): summary(points, method, step) for step in range(horizon)},
        "by_series_type": {
            kind: summary([p for p in points if p.series.kind == kind], method) for kind in SERIES_TYPES
        },
        "by_shape": {
            shape: summary([p for p in points if p.series.shape == shape], method)
            for shape in sorted({p.series.shape for p in points})
        },
        "by_series": {
            label: summary([p for p in points if p.series.label == label], method)
            for label in dict.fromkeys(p.series.label for p in points)
        },
    }


def fragility(points: Sequence[Point], method: str) -> list[dict[str, Any]]:
    """How much the OWA rests on a few forecasts: those naive2 misses most (its largest MASE terms, one
    series from one origin over the horizon: picked without looking at `method`), their share of naive2's
    MASE, and `method`'s OWA without them. A series whose in-sample months barely move has a tiny MASE
    scale, and a lump or a first month of spend after it scores in the hundreds: on the councils' series
    one forecast carries 18-22% of naive2's MASE and five 42-48% (docs/forecasting.md)."""
    terms = np.asarray(
        [
            float(np.sum(metrics.ase_terms(p.actual, p.forecasts["naive2"], p.scale.value or 1)))
            for p in points
        ]
    )
    order = np.argsort(-terms, kind="stable")
    total = float(terms.sum())
    found: list[dict[str, Any]] = []
    for count in FEW:
        if count >= len(points) or total <= 0:
            break
        kept = [points[i] for i in order[count:]]
        share = float(terms[order[:count]].sum()) / total
        found.append(
            {"left_out": count, "naive2_mase_share": _round(share), "owa": summary(kept, method)["owa"]}
        )
    return found


def against(points: Sequence[Point], method: str, reference: str) -> float | None:
    """OWA of `method` with `reference` in naive2's place (the model against seasonal naive)."""
    found, base = accuracy(points, method), accuracy(points, reference)
    return None if found is None or base is None else _round(metrics.owa(*found, *base))


def latency(timings: dict[str, list[float]]) -> dict[str, dict[str, float | int]]:
    found: dict[str, dict[str, float | int]] = {}
    for name, values in sorted(timings.items()):
        cuts = statistics.quantiles(values, n=100, method="inclusive") if len(values) > 1 else values * 99
        found[name] = {
            "calls": len(values),
            "p50_ms": round(statistics.median(values), 2),
            "p95_ms": round(cuts[94], 2),
            "max_ms": round(max(values), 2),
        }
    return found


def build(
    *,
    company: str,
    backend: str,
    today: dt.date,
    months: Sequence[int],
    series: Sequence[Series],
    points: Sequence[Point],
    skipped: Counter[str],
    model_seconds: dict[str, float],
    outcomes: Sequence[Outcome],
    periods: int,
    timings: dict[str, list[float]],
    seconds: dict[str, float],
    horizon: int = 3,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    calibration = {
        "model": DEFAULT_MODEL,
        "periods": periods,
        "origin_step": ORIGIN_STEP,
        **buckets.calibration_scores(outcomes),
        "by_bucket": buckets.by_bucket(outcomes),
        "by_shape": buckets.by_shape(outcomes),
        "by_series_type": {
            kind: buckets.calibration_scores([o for o in outcomes if o.kind == kind]) for kind in SERIES_TYPES
        },
    }
    models = {
        model: {
            **scores(points, model, horizon),
            "owa_vs_snaive": against(points, model, "snaive"),
            "fragility": fragility(points, model),
            "seconds": round(spent, 2),
        }
        for model, spent in model_seconds.items()
    }
    owa = models[DEFAULT_MODEL]["owa"] if DEFAULT_MODEL in models else None
    return {
        "company": company,
        "backend": backend,
        "today": today.isoformat(),
        "horizon": horizon,
        "origins": len(months),
        "origin_months": [month_label(index) for index in months],
        "series": {
            "scopes": len(series),
            "by_type": {kind: sum(one.kind == kind for one in series) for kind in SERIES_TYPES},
            "scored": len({p.series for p in points}),
            "forecasts": len(points),
            "skipped": dict(sorted(skipped.items())),
            "mase_lag_1": sum(p.scale.m == 1 for p in points),
            "naive2_seasonal": sum(p.naive2_seasonal for p in points),
        },
        "models": models,
        "baselines": {method: scores(points, method, horizon) for method in BASELINES},
        "calibration": calibration,
        "latency": latency(timings),
        "targets": TARGETS,
        "issue_18": buckets.targets(calibration, owa),
        **(extra or {}),
        "seconds": {name: round(value, 2) for name, value in seconds.items()},
    }


def write(report: dict[str, Any], out: Path = RESULTS) -> list[Path]:
    """The report as JSON and as Markdown in `out`; the paths written."""
    return write_report(out, f"forecast-{report['company']}", report, markdown(report))


def _number(value: float | None, form: str = ".3f") -> str:
    return "n/a" if value is None else format(value, form)


def _cell(found: dict[str, Any]) -> str:
    return f"{_number(found['owa'])} ({_number(found['smape'], '.1f')} / {_number(found['mase'])})"


def _methods(report: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    engine = [(f"**{model}** (engine)", found) for model, found in report["models"].items()]
    return [*engine, *((BASELINES[name], found) for name, found in report["baselines"].items())]


def _breakdown(report: dict[str, Any], key: str, columns: Sequence[str]) -> list[str]:
    rows = [(label, *(_cell(found[key][column]) for column in columns)) for label, found in _methods(report)]
    return table(("method", *columns), rows)


def _by_series(report: dict[str, Any]) -> list[str]:
    methods = _methods(report)
    labels = list(methods[0][1]["by_series"]) if methods else []
    rows = [(label, *(_number(found["by_series"][label]["owa"]) for _, found in methods)) for label in labels]
    return table(("series", *(name for name, _ in methods)), rows)


def _calibration_row(label: str, found: dict[str, Any]) -> tuple[str, ...]:
    return (
        label,
        str(found["n"]),
        percent(found["coverage_80"]),
        percent(found["coverage_95"]),
        _number(found["brier"]),
        _number(found["brier_base_rate"]),
        _number(found["brier_skill"]),
        percent(found["overrun_rate"]),
    )


def _calibration_rows(calibration: dict[str, Any]) -> list[tuple[str, ...]]:
    return [
        _calibration_row("all", calibration),
        *(
            _calibration_row(f"{kind} budgets", found)
            for kind, found in calibration["by_series_type"].items()
        ),
    ]


def _point_row(label: str, found: dict[str, Any]) -> tuple[str, ...]:
    spent = f"{found['seconds']} s" if "seconds" in found else ""
    return (label, _number(found["smape"], ".2f"), _number(found["mase"]), _number(found["owa"]), spent)


def _selection(report: dict[str, Any]) -> list[str]:
    """Which real series were kept and why the others were left out (`--dataset` only)."""
    found = report.get("series_selection")
    if not found:
        return []
    kept = ", ".join(f"{one['name']} ({one['months']})" for one in found["kept"])
    left = "; ".join(f"{one['name']} ({one['months']}: {one['why']})" for one in found["left_out"])
    return [
        "## The series",
        "",
        *found["notes"],
        "",
        f"Kept, with their complete months ({len(found['kept'])}): {kept}.",
        "",
        f"Left out ({len(found['left_out'])}): {left or 'none'}.",
        "",
    ]


def _owa_vs_snaive(report: dict[str, Any]) -> str:
    found = [f"{model} {_number(one['owa_vs_snaive'])}" for model, one in report["models"].items()]
    return f"OWA with seasonal naive in naive2's place: {', '.join(found) or 'n/a'}."


def _fragility(report: dict[str, Any]) -> str:
    parts = [
        f"{model}: "
        + "; ".join(
            f"without the {one['left_out']} ({percent(one['naive2_mase_share'])} of naive2's MASE) "
            f"{_number(one['owa'])}"
            for one in found.get("fragility", [])
        )
        for model, found in report["models"].items()
        if found.get("fragility")
    ]
    return (
        "How much the OWA rests on a few forecasts (a series from one origin): the OWA without those "
        f"naive2 misses most by MASE, picked without the engine: {', '.join(parts) or 'n/a'}."
    )


def markdown(report: dict[str, Any]) -> str:
    series, calibration = report["series"], report["calibration"]
    skipped = "; ".join(f"{count} {why}" for why, count in series["skipped"].items()) or "none"
    point_rows = [_point_row(label, found) for label, found in _methods(report)]
    lines = [
        f"# Forecast eval: {report['company']} (today {report['today']}, {report['backend']})",
        "",
        *buckets.targets_markdown(report["issue_18"]),
        "",
        *_selection(report),
        f"Rolling-origin backtests: {series['scopes']} budget scopes ({series['by_type']['team']} teams, "
        f"{series['by_type']['team+category']} team + category; {series['scored']} with forecasts to "
        f"score) forecast 1 to {report['horizon']} months "
        f"ahead from the ends of {report['origin_months'][0]} to {report['origin_months'][-1]} "
        f"({report['origins']} origins): {series['forecasts']} forecasts; skipped: {skipped}. "
        f"M4 definitions; naive2 was seasonal in {series['naive2_seasonal']} forecasts, MASE used lag 1 "
        f"(in-sample under 13 months) in {series['mase_lag_1']}.",
        "",
        "## Point accuracy: monthly totals",
        "",
        *table(("method", "sMAPE", "MASE", f"OWA (target {TARGETS['owa']})", "time"), point_rows),
        "",
        _owa_vs_snaive(report),
        "",
        _fragility(report),
        "",
        "### By horizon: OWA (sMAPE / MASE)",
        "",
        *_breakdown(report, "by_horizon", [str(h) for h in range(1, report["horizon"] + 1)]),
        "",
        "### By series type: OWA (sMAPE / MASE)",
        "",
        *_breakdown(report, "by_series_type", SERIES_TYPES),
        "",
        "### By series type (shape): OWA (sMAPE / MASE)",
        "",
        *_breakdown(
            report,
            "by_shape",
            list(report["models"].get(DEFAULT_MODEL, report["baselines"]["naive2"])["by_shape"]),
        ),
        "",
        "### By series: OWA",
        "",
        *_by_series(report),
        "",
        *buckets.markdown(calibration),
        "",
        f"### All as-of days ({calibration['model']}, the engine's model for budgets)",
        "",
        *table(
            ("budgets", "n", "80% coverage", "95% coverage", "Brier", "base-rate Brier", "skill", "overran"),
            _calibration_rows(calibration),
        ),
        "",
        "## Latency and run time",
        "",
        "`calibrate` is the service's `calibrate_scopes` (team and category calibrations), once per as-of "
        "day; `project` is one budget's projection.",
        "",
        *table(
            ("engine call", "calls", "p50 ms", "p95 ms", "max ms"),
            [
                (name, str(found["calls"]), str(found["p50_ms"]), str(found["p95_ms"]), str(found["max_ms"]))
                for name, found in report["latency"].items()
            ],
        ),
        "",
        f"Loading the books took {report['seconds']['load']} s, the whole eval "
        f"{report['seconds']['total']} s.",
    ]
    return "\n".join(lines) + "\n"
