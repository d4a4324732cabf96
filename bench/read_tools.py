"""The read tools' questions, drawn from the demo company: what the throughput and load benches ask."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select

from server.db.engine import create_engine
from server.db.models import Expense, Team


async def sample_company(url: str) -> tuple[list[str], list[str]]:
    """The company's team names and its 500 oldest expense ids: what the questions are about."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            teams = list(await connection.scalars(select(Team.name).order_by(Team.name)))
            refs = list(await connection.scalars(select(Expense.ref).order_by(Expense.id).limit(500)))
    finally:
        await engine.dispose()
    return teams, refs


def read_questions(teams: list[str], refs: list[str], today: dt.date) -> dict[str, Iterator[dict[str, Any]]]:
    """Each tool cycles through the kinds of question an assistant asks."""
    year, quarter = today.year, (today.month - 1) // 3 + 1
    searches: list[dict[str, Any]] = [
        {},
        {"uncategorized_only": True},
        {"merchant": "uber"},
        {"min_amount": "1000"},
    ]
    searches += [{"team": team, "date_from": f"{year}-01-01"} for team in teams]
    summaries: list[dict[str, Any]] = [
        {"group_by": group, "period": period}
        for group in ("category", "team", "merchant", "employee", "month")
        for period in (str(year - 1), f"{year}-Q{quarter}")
    ]
    return {
        "search_expenses": itertools.cycle(searches),
        "get_expense": itertools.cycle({"expense_id": ref} for ref in refs),
        "summarize_spend": itertools.cycle(summaries),
    }
