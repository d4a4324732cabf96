"""Pure logic of summarize_spend: which period, how groups are named, ordered and described."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from server.db.values import free_name
from server.kit.money import format_amount
from server.kit.periods import Period, asked_period, month_to_date, months_in
from tools.spend.schemas import SpendGroup, SpendSummary

if TYPE_CHECKING:
    from tools.spend.queries import GroupRow
    from tools.spend.schemas import GroupBy, SummaryRequest

UNCATEGORIZED = "Uncategorized"
# The name of the group of expenses without a value, by grouping (a free dimension: "No <name>").
NO_VALUE = {
    "category": UNCATEGORIZED,
    "employee": "No employee",  # expenses whose export named no one (card statements without holders)
    "cost_center": "No cost center",
    "project": "No project",
}


def choose_period(request: SummaryRequest, today: dt.date) -> Period:
    """`period`, or `date_from`..`date_to` (date_to defaults to today), or else this month to date."""
    asked = asked_period(request.period, request.date_from, request.date_to, default_end=today)
    return asked or month_to_date(today)


def build_groups(
    rows: list[GroupRow], group_by: GroupBy, period: Period, currency: str, top: int
) -> tuple[list[SpendGroup], SpendGroup | None]:
    """The `top` largest groups, and the rest added together (a model reads 25 rows, not 5,000)."""
    if group_by == "month":
        return _months(rows, period, currency), None
    ordered = sorted(rows, key=lambda row: (-row.total_minor, row.name or "", row.key or ""))
    shown, rest = ordered[:top], ordered[top:]
    unnamed = _unnamed(group_by)
    groups = [
        SpendGroup(
            key=row.key,
            name=row.name if row.name is not None else unnamed,
            total=format_amount(row.total_minor, currency),
            count=row.count,
        )
        for row in shown
    ]
    if not rest:
        return groups, None
    others = SpendGroup(
        key=None,
        name=f"{len(rest)} others",
        total=format_amount(sum(row.total_minor for row in rest), currency),
        count=sum(row.count for row in rest),
    )
    return groups, others


def _unnamed(group_by: GroupBy) -> str:
    """The name of the group of expenses without a value (teams and merchants always have one)."""
    name = free_name(group_by)
    return NO_VALUE.get(group_by, UNCATEGORIZED) if name is None else f"No {name}"


def _months(rows: list[GroupRow], period: Period, currency: str) -> list[SpendGroup]:
    """Every month of the period in order, those without spend as 0: gaps are information too."""
    by_key = {row.key: row for row in rows}
    groups = []
    for year, month in months_in(period.start, period.end):
        key = f"{year:04d}-{month:02d}"
        row = by_key.get(key)
        total, count = (row.total_minor, row.count) if row else (0, 0)
        name = dt.date(year, month, 1).strftime("%B %Y")
        groups.append(SpendGroup(key=key, name=name, total=format_amount(total, currency), count=count))
    return groups


def summary_text(summary: SpendSummary) -> str:
    head = (
        f"Spend {summary.period} ({summary.date_from.isoformat()}..{summary.date_to.isoformat()}) "
        f"by {summary.group_by}: {_grouped(summary.total)} {summary.currency} over {summary.count} expenses"
    )
    if summary.count == 0:
        return f"{head}; nothing matched."
    if summary.group_by == "month":
        return f"{head}, {len(summary.groups)} months."
    top = "; ".join(f"{group.name} {_grouped(group.total)}" for group in summary.groups[:3])
    return f"{head}. Top: {top}."


def _grouped(amount: str) -> str:
    return f"{Decimal(amount):,}"
