"""The Markdown summary of one `outlay bench` run: the issue's targets first (met or not, with the numbers
behind them), then each section's tables."""

from __future__ import annotations

from typing import Any

from bench.throughput import READ_TOOLS

# Issue 10's targets, on a 2-core machine with PostgreSQL 15.
SPEND_VS_GENERIC = 0.5
LOOKUP_OVERHEAD_MS = 1.5
READ_CALLS_PER_S_AT_32 = 1000
COLD_START_S = 1.5
IDLE_RSS_MB = 200
# Issue 17's: training on one core.
TRAIN_ROWS, TRAIN_SECONDS, TRAIN_RSS_MB = 100_000, 30.0, 600
LARGE_TRAIN_SECONDS, LARGE_TRAIN_RSS_MB = 300.0, 2048
# Issue 21's: importing the large company, training left out, whatever the file's size.
IMPORT_RSS_MB = 500


def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per target: what was measured and whether it met the target (None: not measured)."""
    sections = report["sections"]
    rows: list[dict[str, Any]] = []
    for name, result in sections.get("side_by_side", {}).items():
        found = result["targets"]
        rows.append(
            _row(
                f"one-year spend questions (summarize_spend by category, team, month) ≤ {SPEND_VS_GENERIC}× "
                f"the generic server, same answer ({name} company)",
                ", ".join("—" if r is None else f"{r}×" for r in found["spend_ratios"])
                + "".join(
                    f"; {q}: {r}× (not a target)" for q, r in found.get("other_spend_ratios", {}).items()
                ),
                found["spend_at_most_half_of_generic"],
            )
        )
        rows.append(
            _row(
                f"the year's merchant and employee groupings ≤ {SPEND_VS_GENERIC}× the generic server, same "
                f"answer ({name} company; issue 23: the large one)",
                ", ".join(f"{q}: {r}×" for q, r in found.get("grouping_ratios", {}).items()) or "—",
                found.get("groupings_at_most_half_of_generic"),
            )
        )
        rows.append(
            _row(
                f"get_expense over stdio ≤ {LOOKUP_OVERHEAD_MS} ms p50 above its SQL floor ({name} company)",
                f"{found['get_expense_overhead_ms']} ms",
                found["get_expense_overhead_at_most_1_5_ms"],
            )
        )
    default = sections.get("throughput", {}).get("default")
    if default:
        at_32 = {
            run["tool"]: run for run in default["runs"] if run["clients"] == 32 and run["tool"] in READ_TOOLS
        }
        best = max(at_32.values(), key=lambda run: run["calls_per_s"], default=None)
        if best is not None:
            rows.append(
                _row(
                    f"≥ {READ_CALLS_PER_S_AT_32:,} read calls/s at 32 HTTP clients",
                    ", ".join(
                        f"{tool} {run['calls_per_s']}/s (server CPU {run['server_cpu_ms_per_call']} ms/call)"
                        for tool, run in at_32.items()
                    ),
                    best["calls_per_s"] >= READ_CALLS_PER_S_AT_32,
                )
            )
    startup = sections.get("startup")
    if startup:
        cold = startup["stdio"]["tools_list"]["p50_s"]
        rows.append(
            _row(
                f"cold start to first tools/list ≤ {COLD_START_S} s (stdio)",
                f"{cold} s",
                cold <= COLD_START_S,
            )
        )
        idle = {
            "stdio": startup["stdio"]["memory"]["after_tools_list"]["rss_mb"],
            "http": startup["http"]["memory"]["after_tools_list"]["rss_mb"],
        }
        rows.append(
            _row(
                f"idle RSS ≤ {IDLE_RSS_MB} MB",
                ", ".join(f"{name} {mb} MB" for name, mb in idle.items()),
                max(idle.values()) <= IDLE_RSS_MB,
            )
        )
    rows += _training(sections.get("training"))
    rows += _import(sections.get("import"))
    rows += _review(sections.get("review"))
    return rows


def _review(result: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not result:
        return []
    from bench.review import target_rows

    return [_row(*row) for row in target_rows(result)]


def _import(result: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not result:
        return []
    runs = {backend: result[backend] for backend in ("postgresql", "sqlite")}
    return [
        _row(
            f"`outlay import --no-train` of the {result['expenses']:,}-expense company ≤ {IMPORT_RSS_MB} MB "
            "peak RSS",
            ", ".join(f"{name} {run['peak_rss_mb']} MB in {run['seconds']} s" for name, run in runs.items()),
            max(run["peak_rss_mb"] for run in runs.values()) <= IMPORT_RSS_MB,
        )
    ]


def _training(training: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not training:
        return []
    rows = []
    for run in training["curve"]:
        if run["rows"] == TRAIN_ROWS:
            rows.append(
                _row(
                    f"training {TRAIN_ROWS:,} expenses x {run['classes']} categories ≤ {TRAIN_SECONDS:g} s "
                    f"and ≤ {TRAIN_RSS_MB} MB peak RSS, one core",
                    f"{run['seconds']} s ({run['cpu_seconds']} s CPU), {run['peak_rss_mb']} MB",
                    run["seconds"] <= TRAIN_SECONDS and run["peak_rss_mb"] <= TRAIN_RSS_MB,
                )
            )
    if large := training.get("outlay_train_large"):
        rows.append(
            _row(
                f"`outlay train` on the 1.7 M-expense company ≤ {LARGE_TRAIN_SECONDS:g} s and "
                f"≤ {LARGE_TRAIN_RSS_MB} MB",
                f"{large['seconds']} s, {large['peak_rss_mb']} MB "
                f"(learns from the newest {large['learned_from']:,})",
                large["seconds"] <= LARGE_TRAIN_SECONDS and large["peak_rss_mb"] <= LARGE_TRAIN_RSS_MB,
            )
        )
    return rows


def _row(target: str, measured: str, met: bool | None) -> dict[str, Any]:
    return {"target": target, "measured": measured, "met": met}


def render(report: dict[str, Any]) -> str:
    machine = report["machine"]
    lines = [
        f"# outlay bench {report['at']}{' (quick)' if report['quick'] else ''}",
        "",
        f"Commit {report['commit']}; {machine['cpus']} CPUs ({machine['machine']}), "
        f"Python {machine['python']}, load {machine['load_1m']} at the start; "
        f"today pinned to {report['today']}.",
        "",
        "| dataset | database | expenses | prepared in s |",
        "| --- | --- | --- | --- |",
    ]
    for name, dataset in report["datasets"].items():
        lines.append(f"| {name} | {dataset['database']} | {dataset['expenses']:,} | {dataset['prepare_s']} |")
    lines += ["", "## Targets", "", "| target | measured | met |", "| --- | --- | --- |"]
    for row in report["targets"]:
        met = "—" if row["met"] is None else "yes" if row["met"] else "**no**"
        lines.append(f"| {row['target']} | {row['measured']} | {met} |")
    for name, error in report["errors"].items():
        lines.append(f"\n**Section {name} failed**: `{error}` (the traceback is in the run's output).")
    lines += _sections(report["sections"])
    return "\n".join(lines) + "\n"


def _sections(sections: dict[str, Any]) -> list[str]:
    from bench import categorize, importing, plans, side_by_side, startup, throughput, training

    lines: list[str] = []
    if "throughput" in sections:
        lines += ["", "## Tools over streamable HTTP (server in its own process)", ""]
        for name, result in sections["throughput"].items():
            lines.append(throughput.render(result, f"{name} company"))
    if "side_by_side" in sections:
        lines += ["", "## Side by side", ""]
        lines += [
            side_by_side.render(result).replace("# ", "### ", 1)
            for result in sections["side_by_side"].values()
        ]
    if "startup" in sections:
        lines += [
            "",
            "## Start-up and idle memory",
            "",
            startup.render(sections["startup"]).replace("# ", "### ", 1),
        ]
    if "models" in sections:
        models = sections["models"]
        lines += ["", "## Model paths", "", categorize.render(models["categorize"]).replace("# ", "### ", 1)]
        lines += _forecasts(models)
    if "training" in sections:
        lines += ["", training.render(sections["training"]).replace("# ", "## ", 1)]
    if "import" in sections:
        lines += ["", importing.render(sections["import"]).replace("# ", "## ", 1)]
    if "shared_limits" in sections:
        from bench import shared_limits

        lines += ["", shared_limits.render(sections["shared_limits"]).replace("# ", "## ", 1)]
    if "jobs" in sections:
        from bench import jobs

        lines += ["", jobs.render(sections["jobs"]).replace("# ", "## ", 1)]
    if "scaling" in sections:
        scaling = sections["scaling"]
        lines += [
            "",
            "## Scaling and query plans",
            "",
            plans.render(scaling["default"], scaling.get("large")),
        ]
    return lines


def _forecasts(models: dict[str, Any]) -> list[str]:
    lines = [
        "### Forecasts (in-memory client)",
        "",
        "| company | running budgets | first call of a process ms | forecast_budgets cold p50 ms "
        "| forecast_budgets warm p50 ms | forecast_budget p50 / p95 ms |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for key, result in models.items():
        if key.startswith("forecast_"):
            single, cold = result["forecast_budget"], result["forecast_budgets_cold"]
            lines.append(
                f"| {key.removeprefix('forecast_')} | {result['budgets_running']} "
                f"| {result['first_call_of_process_ms']} | {cold['p50_ms']} "
                f"| {result['forecast_budgets_warm']['p50_ms']} | {single['p50_ms']} / {single['p95_ms']} |"
            )
    return lines
