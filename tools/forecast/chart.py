"""The optional forecast chart: cumulative spend over the period against the budget, as a PNG.

Amounts stay Decimal until the last step; floats exist only as plot coordinates. matplotlib is imported
inside `render_chart` so that the server's start-up does not pay for it, and only through a Figure with
its own Agg canvas (never pyplot: no global state between concurrent calls)."""

from __future__ import annotations

import io
from decimal import Decimal
from itertools import accumulate
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from tools.forecast.schemas import BudgetForecast, MonthPoint

WIDTH, HEIGHT, DPI = 8, 4.5, 100  # inches: 800x450 pixels


def cumulative(values: list[Decimal]) -> list[float]:
    return [float(total) for total in accumulate(values)]


def _bounds(month: MonthPoint) -> tuple[Decimal, Decimal]:
    if month.interval_80 is None:  # a month that is over: its actual is certain
        return Decimal(month.expected), Decimal(month.expected)
    return Decimal(month.interval_80.low), Decimal(month.interval_80.high)


def title(forecast: BudgetForecast) -> str:
    scope = forecast.team + (f" · {forecast.category}" if forecast.category else "")
    return f"{scope} — {forecast.period}: {forecast.outlook}"


def subtitle(forecast: BudgetForecast) -> str:
    expected = f"expected {Decimal(forecast.forecast.expected):,} {forecast.currency}"
    if forecast.overrun_probability is None:
        return f"as of {forecast.as_of.isoformat()} · {expected} · no budget"
    chance = f"overrun probability {forecast.overrun_probability:.0%}"
    return f"as of {forecast.as_of.isoformat()} · {expected} · {chance}"


def _actual(ax: Axes, forecast: BudgetForecast) -> None:
    spent = [Decimal(month.actual) for month in forecast.months if month.kind != "forecast"]
    if spent:
        ax.plot(range(len(spent)), cumulative(spent), marker="o", color="tab:blue", label="Actual")


def _expected(ax: Axes, forecast: BudgetForecast) -> None:
    expected = cumulative([Decimal(month.expected) for month in forecast.months])
    ax.plot(range(len(expected)), expected, linestyle="--", color="tab:orange", label="Expected")
    lows, highs = zip(*(_bounds(month) for month in forecast.months), strict=True)
    uncertain = [i for i, month in enumerate(forecast.months) if month.interval_80 is not None]
    if uncertain:
        # From the last certain month, so that the band leaves the actual line where it ends.
        shown = range(max(uncertain[0] - 1, 0), len(forecast.months))
        low, high = cumulative(list(lows)), cumulative(list(highs))
        ax.fill_between(
            shown,
            [low[i] for i in shown],
            [high[i] for i in shown],
            color="tab:orange",
            alpha=0.2,
            label="Monthly 80% intervals, summed",
        )


def _period_end(ax: Axes, forecast: BudgetForecast) -> None:
    last, end = len(forecast.months) - 1, forecast.forecast
    middle = float(Decimal(end.expected))
    for interval, width, label in (
        (end.interval_95, 1, "Period end 95%"),
        (end.interval_80, 3, "Period end 80%"),
    ):
        # Never negative, which matplotlib refuses, even if an interval does not contain its middle.
        below = max(middle - float(Decimal(interval.low)), 0.0)
        above = max(float(Decimal(interval.high)) - middle, 0.0)
        ax.errorbar(
            [last],
            [middle],
            yerr=[[below], [above]],
            fmt="none",
            ecolor="black",
            elinewidth=width,
            capsize=4,
            label=label,
        )


def _budget(ax: Axes, forecast: BudgetForecast) -> None:
    if forecast.budget is not None:
        amount = Decimal(forecast.budget)
        ax.axhline(float(amount), color="tab:red", label=f"Budget {amount:,} {forecast.currency}")


def render_chart(forecast: BudgetForecast) -> bytes:
    """PNG, 800x450: actual and expected cumulative spend per month, the band, the budget."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)  # attaches itself: the figure renders with Agg, whatever the global backend
    ax = figure.add_subplot()
    for draw in (_expected, _actual, _period_end, _budget):
        draw(ax, forecast)
    ax.set_xticks(range(len(forecast.months)), [month.month for month in forecast.months])
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
    ax.set_ylabel(f"Cumulative spend ({forecast.currency})")
    ax.set_ylim(bottom=min(0.0, ax.get_ylim()[0]))  # cumulative spend read from zero
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(subtitle(forecast), fontsize=9)
    figure.suptitle(title(forecast), fontsize=12)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)  # through the Agg canvas attached above
    return buffer.getvalue()
