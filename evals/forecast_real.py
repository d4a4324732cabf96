"""`outlay eval forecast --dataset calderdale|birmingham`: the forecast on real monthly series.

The shared real card ledgers (evals/datasets/: the same readers as the categorizer's ledger eval) become
the books of a company without a database: each series is a team, its history the ledger's daily spend
(in pence) and its recurring-charge candidates the importer's (the same merchant key, charged at least
twice, amounts within 3x: `server/db/rollups.py`), and each calendar quarter is budgeted at the series'
spend in the same quarter a year before. `evals/forecast.py` then backtests them as it does a loaded
company: monthly totals from every month end with a year of data before it (OWA against naive2 and
seasonal naive), and every ended quarter from every 10th day (coverage, Brier, APE per origin bucket).

Which months and series:

- a dataset's months are the span every release covers fully, by transaction date (`WINDOWS`, from the
  datasets' READMEs and their monthly counts);
- a series is one team name (Calderdale: the expense area; Birmingham: the directorate, compared without
  case and with `&` read as `and`, so that the spellings of one directorate make one series), kept when
  it has at least `MIN_MONTHS` complete months: inside the window, and not the first or last month the
  name appears in unless that is the window's edge (a name born or retired mid-month has a partial month).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from evals import forecast
from evals.datasets import birmingham, calderdale
from evals.datasets.ledgers import Ledger, LedgerRow
from evals.forecast_periods import month_sums
from server.db.rollups import REPEAT_SPREAD
from server.kit.countries import public_holidays
from server.kit.merchants import merchant_key
from tools.forecast.calendar import CompanyDays
from tools.forecast.engine import DEFAULT_MODEL
from tools.forecast.history import Charge, ScopeHistory, month_end, month_index, month_label, month_start
from tools.forecast.model import ModelName
from tools.forecast.queries import BudgetRow, Scope

LOADERS: dict[str, Callable[[Path], Ledger]] = {"calderdale": calderdale.load, "birmingham": birmingham.load}
# First and last month every release covers. Calderdale: card files from 2014-10, whose releases carry a
# month's late postings for months after; the releases stop in 2022-08, so months after 2022-03 are cut
# short. Birmingham: the statement of 2017-12 is missing (its November and December spend with it) and
# the 2022-03 statement is partial (rows on the new ledger were dropped).
WINDOWS = {"calderdale": ("2014-10", "2022-03"), "birmingham": ("2018-01", "2022-02")}
MIN_MONTHS = 27  # two years and a quarter: a season can be seen, and a year-earlier budget exists
SPARSE_SHARE = 0.4  # a series with spend in fewer than 60% of its months is "sparse", else "dense"
RESULT_NAMES = {"calderdale": "Calderdale by expense area", "birmingham": "Birmingham by directorate"}


@dataclass(frozen=True)
class Series:
    """One team name's spend: daily totals (pence) and charges at each merchant, over the whole ledger."""

    name: str
    daily: dict[dt.date, int]
    rows: list[tuple[dt.date, str, int]]  # day, merchant key, amount


def _minor(amount: str) -> int:
    return int(Decimal(amount) * 100)


def series_key(dataset: str, row: LedgerRow) -> str:
    name = row.teams[-1]
    return " ".join(name.casefold().replace("&", "and").split()) if dataset == "birmingham" else name


def group(dataset: str, rows: Iterable[LedgerRow]) -> dict[str, Series]:
    found: dict[str, Series] = {}
    spellings: dict[str, str] = {}
    for row in rows:
        key = series_key(dataset, row)
        name = spellings.setdefault(key, row.teams[-1])
        series = found.setdefault(key, Series(name, defaultdict(int), []))
        day, amount = dt.date.fromisoformat(row.date), _minor(row.amount)
        series.daily[day] += amount
        series.rows.append((day, merchant_key(row.descriptor), amount))
    return found


def complete_months(series: Series, window: tuple[int, int]) -> tuple[int, int]:
    """(first, last) month index of the series' complete months inside the window (first > last: none)."""
    low, high = window
    months = [month_index(day) for day, amount in series.daily.items() if amount]
    if not months:
        return high + 1, high
    first, last = min(months), max(months)
    return max(low, first + (first >= low)), min(high, last - (last <= high))


def charges(series: Series, first: dt.date, last: dt.date) -> tuple[Charge, ...]:
    """The importer's recurring-charge candidates: a merchant charged twice or more, amounts within 3x."""
    return _merchant_charges(
        series, first, last, lambda charged: len(charged) >= 2 and _within_spread([a for _, a in charged])
    )


def singles(series: Series, first: dt.date, last: dt.date) -> tuple[Charge, ...]:
    """The expenses that are the only one at their merchant in the window (`queries._singles`)."""
    return _merchant_charges(series, first, last, lambda charged: len(charged) == 1 and charged[0][1] > 0)


def _merchant_charges(
    series: Series, first: dt.date, last: dt.date, kept: Callable[[list[tuple[dt.date, int]]], bool]
) -> tuple[Charge, ...]:
    """The window's charges at the merchants whose (day, amount)s `kept` accepts, in date order."""
    by_merchant: dict[str, list[tuple[dt.date, int]]] = defaultdict(list)
    for day, merchant, amount in series.rows:
        if first <= day <= last:
            by_merchant[merchant].append((day, amount))
    ids = {merchant: number for number, merchant in enumerate(sorted(by_merchant), 1)}
    found = [
        Charge(ids[merchant], merchant, day, amount)
        for merchant, charged in by_merchant.items()
        if kept(charged)
        for day, amount in charged
    ]
    return tuple(sorted(found, key=lambda charge: charge.on))


def _within_spread(amounts: Sequence[int]) -> bool:
    return min(amounts) > 0 and max(amounts) <= REPEAT_SPREAD * min(amounts)


def quarters(first: int, last: int) -> list[int]:
    """Month indexes of the calendar quarters inside months first..last whose year-earlier quarter is too."""
    starts = range(first + 12 + (-(first + 12) % 3), last - 1, 3)
    return [start for start in starts if start + 2 <= last]


def shape(history: ScopeHistory, first: int, last: int) -> str:
    sums = month_sums(history)
    empty = sum(sums.get(index, 0) <= 0 for index in range(first, last + 1))
    return "sparse" if empty > SPARSE_SHARE * (last - first + 1) else "dense"


@dataclass(frozen=True)
class Selection:
    books: forecast.Books
    report: dict[str, Any]


def books_of(dataset: str, ledger: Ledger, *, min_months: int = MIN_MONTHS) -> Selection:
    window = tuple(month_index(dt.date.fromisoformat(f"{month}-01")) for month in WINDOWS[dataset])
    low, high = window
    histories: dict[Scope, ScopeHistory] = {}
    budgets: list[BudgetRow] = []
    ends: dict[Scope, dt.date] = {}
    shapes: dict[str, str] = {}
    kept, left_out = [], []
    for number, series in enumerate(sorted(group(dataset, ledger.rows).values(), key=lambda s: s.name), 1):
        first, last = complete_months(series, (low, high))
        months = max(last - first + 1, 0)
        span = f"{months} complete months" + (
            f", {month_label(first)}..{month_label(last)}" if months else ""
        )
        if months < min_months:
            left_out.append({"name": series.name, "months": span, "why": f"fewer than {min_months}"})
            continue
        scope, start, end = Scope(number), month_start(first), month_end(last)
        daily = {day: amount for day, amount in series.daily.items() if start <= day <= end}
        histories[scope] = ScopeHistory(
            daily, start, charges(series, start, end), singles=singles(series, start, end)
        )
        ends[scope] = end
        shapes[series.name] = shape(histories[scope], first, last)
        kept.append({"name": series.name, "months": span, "type": shapes[series.name]})
        sums = month_sums(histories[scope])
        for quarter in quarters(first, last):
            budget = sum(sums.get(quarter - 12 + k, 0) for k in range(3))
            row = BudgetRow(len(budgets) + 1, scope, series.name, None, month_start(quarter),
                            month_end(quarter + 2), budget)  # fmt: skip
            budgets.append(row)
    days = council_days(histories.values())
    histories = {scope: replace(history, calendar=days) for scope, history in histories.items()}
    books = forecast.Books(
        slug=dataset,
        today=month_end(high),
        budgets=budgets,
        histories=histories,
        teams=list(histories),
        categories=[],
        shapes=shapes,
        ends=ends,
    )
    return Selection(books, _selection_report(dataset, ledger, window, kept, left_out, min_months))


def council_days(histories: Iterable[ScopeHistory]) -> CompanyDays:
    """The council's spend per day less its recurring-charge candidates, with England's bank holidays: the
    calendar `forecast_budget` learns for a company whose `country` is GB (`queries.company_days`)."""
    daily: defaultdict[dt.date, int] = defaultdict(int)
    for history in histories:
        for day, amount in history.daily.items():
            daily[day] += amount
        for charge in history.charges:
            daily[charge.on] -= charge.amount_minor
    return CompanyDays(dict(daily), COUNTRY, partial(public_holidays, COUNTRY))


COUNTRY = "GB"  # both councils are in England


def _selection_report(
    dataset: str,
    ledger: Ledger,
    window: tuple[int, ...],
    kept: list[dict[str, str]],
    left_out: list[dict[str, str]],
    min_months: int,
) -> dict[str, Any]:
    low, high = window
    notes = [
        f"{RESULT_NAMES[dataset]}: {len(ledger.rows):,} ledger rows ({ledger.name}). Months "
        f"{month_label(low)}..{month_label(high)}, the span every release covers fully (`WINDOWS` in "
        "`evals/forecast_real.py`). A series is kept with at least "
        f"{min_months} complete months under one name; a name's first and last month count only at the "
        "window's edge (a reorganisation renames mid-month). Each calendar quarter with a year of the "
        "series before it is a budget equal to the series' spend in the same quarter a year earlier. "
        f"Series type: sparse when {SPARSE_SHARE:.0%} or more of its complete months have no spend, "
        "else dense.",
    ]
    return {
        "dataset": dataset,
        "window": [month_label(low), month_label(high)],
        "min_months": min_months,
        "series_selection": {"notes": notes, "kept": kept, "left_out": left_out},
    }


def run(
    dataset: str,
    datasets: Path,
    *,
    models: Sequence[ModelName] = (DEFAULT_MODEL,),
    min_months: int = MIN_MONTHS,
    ledger: Ledger | None = None,
) -> dict[str, Any]:
    """The eval on one real dataset (or an already read `ledger` of it)."""
    started = time.perf_counter()
    selection = books_of(dataset, ledger or LOADERS[dataset](datasets), min_months=min_months)
    books = selection.books
    last = month_index(books.today) - forecast.HORIZON
    first = min((month_index(h.first_day) for h in books.histories.values()), default=last) + 11
    months = list(range(first, last + 1))
    report = selection.report
    return forecast.evaluate(books, months, models, backend="in memory", started=started, extra=report)
