"""The questions of the side-by-side bench: what our tool is asked, the SQL an agent would write for the
same answer against the schema, and how each kind of answer becomes one comparable value.

Every answer is normalized to plain Python values (Decimal amounts in the company currency, ints,
strings) so that "the answers matched" is an equality test: our tool's structured content, the generic
server's JSON rows (numbers as text, json columns parsed) and asyncpg records (ints, Decimals, json as
text) all end up the same when they agree.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import asyncpg

from server.kit.money import to_decimal
from server.kit.selection import COUNT_CAP

Rows = list[Mapping[str, Any]]
Normalized = Any  # a comparable value: dicts, tuples, Decimals


@dataclass(frozen=True)
class Question:
    name: str
    tool: str
    arguments: dict[str, Any]
    sql: str  # one statement, literals inlined: what an agent sends to a generic `query` tool
    from_tool: Callable[[Mapping[str, Any]], Normalized]
    from_rows: Callable[[Rows], Normalized]
    # The statements our tool runs for the answer, when they differ from `sql`: the floor of its latency.
    floor: tuple[str, ...] = field(default=())

    @property
    def floor_statements(self) -> tuple[str, ...]:
        return self.floor or (self.sql,)


@dataclass(frozen=True)
class Dataset:
    """What the questions are about, read from the database by the company slug."""

    company_id: int
    currency: str
    year: int
    quarter: tuple[dt.date, dt.date, str]  # first day, last day, label 2026-Q3
    team: tuple[int, str]
    merchant_text: str
    expense: tuple[int, str]  # id, ref: an expense with approval requests
    request_ids: tuple[int, ...]
    today: dt.date


# ---- reading the dataset ---------------------------------------------------------------------------


async def read_dataset(connection: asyncpg.Connection, slug: str, today: dt.date) -> Dataset:
    company = await connection.fetchrow("SELECT id, currency FROM companies WHERE slug = $1", slug)
    if company is None:
        raise LookupError(f"no company {slug!r} in this database; load the demo company first")
    company_id = int(company["id"])
    year = await _year(connection, company_id, today)
    quarter = _last_full_quarter(today)
    expense_id, ref = await _expense_with_approvals(connection, company_id)
    requests = await connection.fetch(
        "SELECT id FROM approval_requests WHERE company_id = $1 AND expense_id = $2", company_id, expense_id
    )
    return Dataset(
        company_id=company_id,
        currency=str(company["currency"]),
        year=year,
        quarter=quarter,
        team=await _busiest_team(connection, company_id, quarter),
        merchant_text=await _frequent_merchant(connection, company_id, year),
        expense=(expense_id, ref),
        request_ids=tuple(int(row["id"]) for row in requests),
        today=today,
    )


async def _year(connection: asyncpg.Connection, company_id: int, today: dt.date) -> int:
    """Last year, the question the benchmarks ask; this year when there was no spend last year (a small
    demo company of a few months)."""
    last_year = await connection.fetchval(
        "SELECT 1 FROM expenses WHERE company_id = $1 AND spent_on BETWEEN $2 AND $3 LIMIT 1",
        company_id,
        dt.date(today.year - 1, 1, 1),
        dt.date(today.year - 1, 12, 31),
    )
    return today.year - 1 if last_year else today.year


def _last_full_quarter(today: dt.date) -> tuple[dt.date, dt.date, str]:
    quarter = (today.month - 1) // 3  # the current one, 0-based; the last full one is the one before
    year, index = (today.year, quarter - 1) if quarter else (today.year - 1, 3)
    first = dt.date(year, 3 * index + 1, 1)
    after = dt.date(year + (index == 3), (3 * index + 3) % 12 + 1, 1)
    return first, after - dt.timedelta(days=1), f"{year}-Q{index + 1}"


async def _busiest_team(
    connection: asyncpg.Connection, company_id: int, quarter: tuple[dt.date, dt.date, str]
) -> tuple[int, str]:
    row = await connection.fetchrow(
        "SELECT t.id, t.name FROM expenses e JOIN teams t ON t.id = e.team_id "
        "WHERE e.company_id = $1 AND e.spent_on BETWEEN $2 AND $3 "
        "GROUP BY t.id, t.name ORDER BY count(*) DESC, t.name LIMIT 1",
        company_id,
        quarter[0],
        quarter[1],
    )
    if row is None:
        raise LookupError(f"no spend in {quarter[2]}: the demo company needs months up to today")
    return int(row["id"]), str(row["name"])


async def _frequent_merchant(connection: asyncpg.Connection, company_id: int, year: int) -> str:
    name = await connection.fetchval(
        "SELECT m.name FROM expenses e JOIN merchants m ON m.id = e.merchant_id "
        "WHERE e.company_id = $1 AND e.spent_on BETWEEN $2 AND $3 "
        "GROUP BY m.name ORDER BY count(*) DESC, m.name LIMIT 1",
        company_id,
        dt.date(year, 1, 1),
        dt.date(year, 12, 31),
    )
    return str(name).lower()


async def _expense_with_approvals(connection: asyncpg.Connection, company_id: int) -> tuple[int, str]:
    row = await connection.fetchrow(
        "SELECT e.id, e.ref FROM expenses e WHERE e.company_id = $1 AND EXISTS "
        "(SELECT 1 FROM approval_requests r WHERE r.expense_id = e.id) ORDER BY e.id DESC LIMIT 1",
        company_id,
    )
    if row is None:
        row = await connection.fetchrow(
            "SELECT id, ref FROM expenses WHERE company_id = $1 ORDER BY id DESC LIMIT 1", company_id
        )
    if row is None:
        raise LookupError("the company has no expenses")
    return int(row["id"]), str(row["ref"])


# ---- normalizers -----------------------------------------------------------------------------------


def _int(value: Any) -> int:
    """node-postgres sends bigint and numeric as text; asyncpg as int or Decimal."""
    return int(Decimal(str(value)))


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def totals_from_tool(content: Mapping[str, Any]) -> dict[str | None, tuple[Decimal, int]]:
    """{group key: (total, count)}; months without spend are left out (SQL has no row for them)."""
    if content.get("others"):
        raise ValueError("ask with a `top` large enough for every group: `others` hides their keys")
    return {g["key"]: (Decimal(g["total"]), int(g["count"])) for g in content["groups"] if int(g["count"])}


def top_from_tool(content: Mapping[str, Any]) -> dict[str | None, tuple[Decimal, int]]:
    """The groups listed, `others` (the rest, added together) left out: the SQL's LIMIT has no such row."""
    return {g["key"]: (Decimal(g["total"]), int(g["count"])) for g in content["groups"]}


def totals_from_rows(currency: str) -> Callable[[Rows], dict[str | None, tuple[Decimal, int]]]:
    def normalize(rows: Rows) -> dict[str | None, tuple[Decimal, int]]:
        return {row["key"]: (to_decimal(_int(row["total_minor"]), currency), _int(row["n"])) for row in rows}

    return normalize


def page_from_tool(content: Mapping[str, Any]) -> list[tuple[str, Decimal]]:
    return [(item["id"], Decimal(item["amount_company"]["amount"])) for item in content["items"]]


def page_from_rows(currency: str) -> Callable[[Rows], list[tuple[str, Decimal]]]:
    def normalize(rows: Rows) -> list[tuple[str, Decimal]]:
        return [(row["ref"], to_decimal(_int(row["amount_company_minor"]), currency)) for row in rows]

    return normalize


def expense_from_tool(content: Mapping[str, Any]) -> dict[str, Any]:
    category = content["category"]
    return {
        "ref": content["id"],
        "date": content["date"],
        "amount": (Decimal(content["amount"]["amount"]), content["amount"]["currency"]),
        "amount_company": Decimal(content["amount_company"]["amount"]),
        "status": content["status"],
        "merchant": content["merchant"]["name"],
        "mcc": content["merchant"]["mcc"],
        "category": None if category is None else category["code"],
        "employee": content["employee"]["email"],
        "team": content["team"]["name"],
        "receipt": content["receipt_attached"],
        "approvals": [
            (
                request["id"],
                request["status"],
                request["requester"]["email"],
                Decimal(request["amount"]["amount"]),
                [(d["step"], d["approver"]["email"], d["decision"]) for d in request["decisions"]],
            )
            for request in content["approvals"]
        ],
    }


def row_from_tool(content: Mapping[str, Any]) -> dict[str, Any]:
    """What a plain `SELECT ... FROM expenses WHERE id = ...` answers of an expense."""
    return {
        "ref": content["id"],
        "date": content["date"],
        "amount": (Decimal(content["amount"]["amount"]), content["amount"]["currency"]),
        "amount_company": Decimal(content["amount_company"]["amount"]),
        "status": content["status"],
        "receipt": content["receipt_attached"],
    }


def row_from_rows(currency: str) -> Callable[[Rows], dict[str, Any] | None]:
    def normalize(rows: Rows) -> dict[str, Any] | None:
        return _row(rows[0], currency) if len(rows) == 1 else None

    return normalize


def expense_from_rows(currency: str) -> Callable[[Rows], dict[str, Any] | None]:
    """`row_from_rows`' facts and what get_expense adds: merchant, MCC, category, people, approvals."""

    def normalize(rows: Rows) -> dict[str, Any] | None:
        if len(rows) != 1:
            return None
        row = rows[0]
        return _row(row, currency) | {
            "merchant": row["merchant"],
            "mcc": row["mcc"],
            "category": row["category_code"],
            "employee": row["email"],
            "team": row["team"],
            "approvals": [_request(request) for request in _json(row["approvals"])],
        }

    return normalize


def _row(row: Mapping[str, Any], currency: str) -> dict[str, Any]:
    return {
        "ref": row["ref"],
        "date": row["spent_on"],
        "amount": (to_decimal(_int(row["amount_minor"]), row["currency"]), row["currency"]),
        "amount_company": to_decimal(_int(row["amount_company_minor"]), currency),
        "status": row["status"],
        "receipt": row["receipt_present"],
    }


def _request(request: Mapping[str, Any]) -> tuple[Any, ...]:
    amount = to_decimal(_int(request["amount_minor"]), request["currency"])
    decisions = [(int(d["step"]), d["approver"], d["decision"]) for d in request["decisions"]]
    return request["ref"], request["status"], request["requester"], amount, decisions


# ---- the questions ---------------------------------------------------------------------------------

ALL_GROUPS = 500  # summarize_spend's largest `top`: every group listed, none folded into `others`
PAGE = 20
TOP_GROUPS = 20
RIDES, RIDES_DAYS, RIDES_PAGE = "uber", 90, 50  # issue 23's small search: 'uber', 90 days, first 50


def questions(data: Dataset) -> list[Question]:
    year_from, year_to = dt.date(data.year, 1, 1), dt.date(data.year, 12, 31)
    q_from, q_to, q_label = data.quarter
    year = {"period": str(data.year), "top": ALL_GROUPS}
    return [
        *(
            _spend(
                data, f"spend {data.year} by {group}", {"group_by": group, **year}, group, year_from, year_to
            )
            for group in ("category", "team", "month")
        ),
        _spend(
            data,
            f"{data.team[1]} {q_label} by category",
            {"group_by": "category", "period": q_label, "team": data.team[1], "top": ALL_GROUPS},
            "category",
            q_from,
            q_to,
            team_id=data.team[0],
        ),
        Question(
            name="get_expense by ref",
            tool="get_expense",
            arguments={"expense_id": data.expense[1]},
            sql=_expense_sql(data),
            from_tool=expense_from_tool,
            from_rows=expense_from_rows(data.currency),
            floor=_expense_floor(data),
        ),
        _top(data, "merchant", year_from, year_to),
        _top(data, "employee", year_from, year_to),
        Question(
            name="get_expense vs SELECT ... WHERE id =",
            tool="get_expense",
            arguments={"expense_id": data.expense[1]},
            sql=(
                "SELECT e.ref, to_char(e.spent_on, 'YYYY-MM-DD') AS spent_on, e.amount_minor, e.currency, "
                "e.amount_company_minor, e.status, e.receipt_present FROM expenses e "
                f"WHERE e.id = {data.expense[0]}"
            ),
            from_tool=row_from_tool,
            from_rows=row_from_rows(data.currency),
            floor=_expense_floor(data),
        ),
        _search(data, data.today - dt.timedelta(days=RIDES_DAYS - 1), data.today, RIDES, RIDES_PAGE),
        Question(
            name=f"search '{data.merchant_text}' {data.year}, page 1",
            tool="search_expenses",
            arguments={
                "merchant": data.merchant_text,
                "date_from": year_from.isoformat(),
                "date_to": year_to.isoformat(),
                "limit": PAGE,
            },
            sql=_search_sql(data, year_from, year_to, PAGE),
            from_tool=page_from_tool,
            from_rows=page_from_rows(data.currency),
            # Ours reads one row more (is there a next page?) and counts every match.
            floor=(
                _search_sql(data, year_from, year_to, PAGE + 1),
                _search_count_sql(data, year_from, year_to),
            ),
        ),
    ]


def _top(data: Dataset, group_by: str, first: dt.date, last: dt.date) -> Question:
    """The year's top groups; ours reads the whole months from the company-wide monthly rollup."""
    key, join = _GROUPS[group_by]
    rollup, column, table, named = _PARTY_ROLLUPS[group_by]
    return Question(
        name=f"top {TOP_GROUPS} {group_by}s {data.year}",
        tool="summarize_spend",
        arguments={"group_by": group_by, "period": str(data.year), "top": TOP_GROUPS},
        sql=(
            f"SELECT {key} AS key, sum(e.amount_company_minor) AS total_minor, count(*) AS n "
            f"FROM expenses e {join} WHERE e.company_id = {data.company_id} "
            f"AND e.spent_on BETWEEN {_date(first)} AND {_date(last)} "
            f"GROUP BY 1 ORDER BY total_minor DESC LIMIT {TOP_GROUPS}"
        ),
        from_tool=top_from_tool,
        from_rows=totals_from_rows(data.currency),
        floor=(
            f"SELECT x.{named}, t.total, t.n FROM (SELECT {column} AS id, sum(total_minor) AS total, "
            f"sum(expenses) AS n FROM {rollup} WHERE company_id = {data.company_id} AND month BETWEEN "
            f"{_date(first.replace(day=1))} AND {_date(last.replace(day=1))} GROUP BY {column}) t "
            f"LEFT JOIN {table} x ON x.id = t.id",
        ),
    )


def _search(data: Dataset, first: dt.date, last: dt.date, text: str, limit: int) -> Question:
    """A text search over [first, last], its first page of `limit`."""
    searched = replace(data, merchant_text=text)
    return Question(
        name=f"search '{text}' {(last - first).days + 1} days, first {limit}",
        tool="search_expenses",
        arguments={
            "merchant": text,
            "date_from": first.isoformat(),
            "date_to": last.isoformat(),
            "limit": limit,
        },
        sql=_search_sql(searched, first, last, limit),
        from_tool=page_from_tool,
        from_rows=page_from_rows(data.currency),
        # Ours reads one row more (is there a next page?) and counts the matches up to the cap.
        floor=(_search_sql(searched, first, last, limit + 1), _search_count_sql(searched, first, last)),
    )


def _spend(
    data: Dataset,
    name: str,
    arguments: dict[str, Any],
    group_by: str,
    first: dt.date,
    last: dt.date,
    *,
    team_id: int | None = None,
) -> Question:
    return Question(
        name=name,
        tool="summarize_spend",
        arguments=arguments,
        sql=_totals_sql(data, group_by, first, last, team_id=team_id),
        from_tool=totals_from_tool,
        from_rows=totals_from_rows(data.currency),
    )


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _date(value: dt.date) -> str:
    return f"DATE '{value.isoformat()}'"


_GROUPS = {
    "category": ("c.code", "LEFT JOIN categories c ON c.id = e.category_id"),
    "team": ("t.name", "JOIN teams t ON t.id = e.team_id"),
    "month": ("to_char(e.spent_on, 'YYYY-MM')", ""),
    "merchant": ("m.name", "LEFT JOIN merchants m ON m.id = e.merchant_id"),
    "employee": ("em.email", "LEFT JOIN employees em ON em.id = e.employee_id"),
}
# The rollups summarize_spend reads a company's whole months from: table, column, the table naming it.
_PARTY_ROLLUPS = {
    "merchant": ("merchant_monthly", "merchant_id", "merchants", "name"),
    "employee": ("employee_monthly", "employee_id", "employees", "email"),
}


def _totals_sql(
    data: Dataset, group_by: str, first: dt.date, last: dt.date, *, team_id: int | None = None
) -> str:
    key, join = _GROUPS[group_by]
    team = "" if team_id is None else f" AND e.team_id = {team_id}"
    return (
        f"SELECT {key} AS key, sum(e.amount_company_minor) AS total_minor, count(*) AS n "
        f"FROM expenses e {join} "
        f"WHERE e.company_id = {data.company_id} "
        f"AND e.spent_on BETWEEN {_date(first)} AND {_date(last)}{team} "
        "GROUP BY 1 ORDER BY total_minor DESC"
    )


_EXPENSE_JOINS = (
    "JOIN employees emp ON emp.id = e.employee_id JOIN teams t ON t.id = e.team_id "
    "JOIN merchants m ON m.id = e.merchant_id LEFT JOIN categories c ON c.id = e.category_id"
)


def _expense_sql(data: Dataset) -> str:
    """One statement for everything get_expense shows, approvals as nested JSON."""
    decisions = (
        "SELECT coalesce(json_agg(json_build_object('step', d.step, 'approver', a.email, "
        "'on_behalf_of', b.email, 'decision', d.decision, 'decided_at', d.decided_at) "
        "ORDER BY d.step, d.id), '[]') FROM approval_decisions d "
        "JOIN employees a ON a.id = d.approver_id LEFT JOIN employees b ON b.id = d.on_behalf_of_id "
        "WHERE d.request_id = r.id"
    )
    requests = (
        "SELECT coalesce(json_agg(json_build_object('ref', r.ref, 'status', r.status, "
        "'requester', q.email, 'amount_minor', r.amount_minor, 'currency', r.currency, "
        f"'submitted_at', r.submitted_at, 'decisions', ({decisions})) ORDER BY r.submitted_at, r.id), '[]') "
        "FROM approval_requests r JOIN employees q ON q.id = r.requester_id WHERE r.expense_id = e.id"
    )
    return (
        "SELECT e.ref, to_char(e.spent_on, 'YYYY-MM-DD') AS spent_on, e.descriptor, e.memo, "
        "e.amount_minor, e.currency, e.amount_company_minor, e.status, e.payment_type, "
        "coalesce(nullif(e.mcc, ''), m.mcc) AS mcc, m.name AS merchant, c.code AS category_code, "
        "c.name AS category_name, e.category_source, e.category_confidence, emp.email, "
        "emp.name AS employee_name, t.name AS team, t.cost_center, e.receipt_present, "
        f"({requests}) AS approvals "
        f"FROM expenses e {_EXPENSE_JOINS} "
        f"WHERE e.company_id = {data.company_id} AND e.ref = {_text(data.expense[1])}"
    )


def _expense_floor(data: Dataset) -> tuple[str, ...]:
    """The statements get_expense runs (tools/expenses/queries.py): the row, its requests, their decisions."""
    company, (expense_id, ref) = data.company_id, data.expense
    row = (
        f"SELECT e.*, emp.*, t.*, m.*, c.* FROM expenses e {_EXPENSE_JOINS} "
        f"WHERE e.company_id = {company} AND e.ref = {_text(ref)}"
    )
    requests = (
        "SELECT r.*, q.* FROM approval_requests r JOIN employees q ON q.id = r.requester_id "
        f"WHERE r.company_id = {company} AND r.expense_id = {expense_id} ORDER BY r.submitted_at, r.id"
    )
    if not data.request_ids:
        return row, requests
    ids = ", ".join(str(i) for i in data.request_ids)
    decisions = (
        "SELECT d.*, a.*, b.* FROM approval_decisions d JOIN employees a ON a.id = d.approver_id "
        "LEFT JOIN employees b ON b.id = d.on_behalf_of_id "
        f"WHERE d.company_id = {company} AND d.request_id IN ({ids}) ORDER BY d.request_id, d.step, d.id"
    )
    return row, requests, decisions


def _mentions(data: Dataset) -> str:
    escaped = data.merchant_text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = _text(f"%{escaped}%")
    return f"(lower(e.descriptor) LIKE {pattern} OR lower(m.name) LIKE {pattern})"


def _search_where(data: Dataset, first: dt.date, last: dt.date) -> str:
    return (
        f"WHERE e.company_id = {data.company_id} AND e.spent_on BETWEEN {_date(first)} AND {_date(last)} "
        f"AND {_mentions(data)}"
    )


def _search_sql(data: Dataset, first: dt.date, last: dt.date, limit: int) -> str:
    return (
        "SELECT e.ref, to_char(e.spent_on, 'YYYY-MM-DD') AS spent_on, emp.email, emp.name AS employee_name, "
        "t.name AS team, m.name AS merchant, e.descriptor, e.amount_minor, e.currency, "
        "e.amount_company_minor, c.code AS category_code, c.name AS category_name, e.category_source, "
        "e.category_confidence, e.status, e.receipt_present "
        f"FROM expenses e {_EXPENSE_JOINS} {_search_where(data, first, last)} "
        f"ORDER BY e.spent_on DESC, e.id DESC LIMIT {limit}"
    )


def _search_count_sql(data: Dataset, first: dt.date, last: dt.date) -> str:
    """total_matched of a text search, as the tool counts it: up to COUNT_CAP, then "more than"."""
    return (
        "SELECT count(*) FROM (SELECT e.id FROM expenses e JOIN merchants m ON m.id = e.merchant_id "
        f"{_search_where(data, first, last)} LIMIT {COUNT_CAP + 1}) AS matches"
    )
