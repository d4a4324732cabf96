"""A selection of the caller's expenses: filters as an agent names them, resolved to ids and minor units,
read a page at a time (newest first) behind a signed cursor, and counted.

search_expenses lists a selection; categorize_expenses works through the uncategorized backlog of one.
Every query is filtered by the caller's company.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, String, and_, bindparam, func, or_, select

from server.db.models import Category, Employee, Expense, ExpenseDimension, Merchant, SpendMonthly, Team
from server.db.rollups import monthly_slices
from server.errors import InvalidArgument
from server.kit.expense_rows import ITEM_ROWS, ROWS, ExpenseRow, ItemColumns
from server.kit.money import MoneyError, to_minor
from server.kit.periods import split_period
from server.kit.resolve import check_dimensions, given, resolve_category, resolve_employee, resolve_team

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from server.context import Caller


@dataclass(frozen=True)
class SelectionRequest:
    """Filters as the agent gave them (names not yet resolved), and the page it wants."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    team: str | None = None
    employee: str | None = None
    merchant: str | None = None
    category: str | None = None
    status: str | None = None
    min_amount: str | None = None
    max_amount: str | None = None
    uncategorized_only: bool = False
    missing_receipt: bool = False
    cost_center: str | None = None
    project: str | None = None
    dimensions: Mapping[str, str] | None = None  # free dimension name -> value
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True)
class ExpenseFilters:
    """Resolved filters: ids and minor units, never names."""

    company_id: int
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    team_id: int | None = None
    employee_id: int | None = None
    category_id: int | None = None
    merchant_text: str | None = None
    status: str | None = None
    min_minor: int | None = None
    max_minor: int | None = None
    uncategorized_only: bool = False
    missing_receipt: bool = False
    cost_center: str | None = None
    project: str | None = None
    dimensions: tuple[tuple[str, str], ...] = ()  # (name, value), sorted by name


@dataclass(frozen=True)
class Resolved:
    """The filters, and the rows the agent's names resolved to (for echoing what was used)."""

    filters: ExpenseFilters
    team: Team | None
    employee: Employee | None
    category: Category | None


async def resolve(session: AsyncSession, caller: Caller, request: SelectionRequest) -> Resolved:
    """Names → the caller's rows, amounts → minor units; an impossible combination is `InvalidArgument`."""
    check_date_range(request.date_from, request.date_to)
    category_text = given(request.category)
    if category_text and request.uncategorized_only:
        raise InvalidArgument("pass either category or uncategorized_only=true, not both")
    company = caller.company_id
    team = await resolve_team(session, company, text) if (text := given(request.team)) else None
    employee = await resolve_employee(session, company, text) if (text := given(request.employee)) else None
    category = await resolve_category(session, company, category_text) if category_text else None
    min_minor = parse_amount(request.min_amount, caller.currency, "min_amount")
    max_minor = parse_amount(request.max_amount, caller.currency, "max_amount")
    if min_minor is not None and max_minor is not None and min_minor > max_minor:
        raise InvalidArgument(f"min_amount {request.min_amount} is above max_amount {request.max_amount}")
    dimensions = await _dimension_filter(session, company, request.dimensions)
    filters = ExpenseFilters(
        company_id=company,
        date_from=request.date_from,
        date_to=request.date_to,
        team_id=None if team is None else team.id,
        employee_id=None if employee is None else employee.id,
        category_id=None if category is None else category.id,
        merchant_text=given(request.merchant),
        status=request.status,
        min_minor=min_minor,
        max_minor=max_minor,
        uncategorized_only=request.uncategorized_only,
        missing_receipt=request.missing_receipt,
        cost_center=given(request.cost_center),
        project=given(request.project),
        dimensions=dimensions,
    )
    return Resolved(filters, team, employee, category)


async def _dimension_filter(
    session: AsyncSession, company_id: int, asked: Mapping[str, str] | None
) -> tuple[tuple[str, str], ...]:
    """(name, value) pairs in name order, each name one of the company's free dimensions (a tool call's
    blank values are refused before they get here)."""
    pairs = {name.strip(): value.strip() for name, value in (asked or {}).items() if given(value)}
    note = " (arguments of their own)"
    await check_dimensions(session, company_id, list(pairs), argument="dimensions", fixed_note=note)
    return tuple(sorted(pairs.items()))


def check_date_range(date_from: dt.date | None, date_to: dt.date | None) -> None:
    if date_from is not None and date_to is not None and date_from > date_to:
        raise InvalidArgument(
            f"date_from {date_from.isoformat()} is after date_to {date_to.isoformat()}; both dates are "
            "inclusive (use the same date twice for a single day)"
        )


def parse_amount(text: str | None, currency: str, argument: str) -> int | None:
    value = given(text)
    if value is None:
        return None
    try:
        return to_minor(value, currency)
    except MoneyError as exc:
        raise InvalidArgument(f"{argument}: {exc}") from None


# ---- pages -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    rows: list[ExpenseRow]
    next_cursor: str | None  # None: nothing after this page


async def page(
    session: AsyncSession, secret: bytes, filters: ExpenseFilters, *, cursor: str | None, limit: int
) -> Page:
    """Up to `limit` rows after the cursor, and the cursor of the next page."""
    after = decode_cursor(secret, filters, cursor) if cursor else None
    rows = await search_page(session, filters, after=after, limit=limit + 1)
    last = rows[limit - 1].expense if len(rows) > limit else None
    next_cursor = None if last is None else encode_cursor(secret, filters, last.spent_on, last.id)
    return Page(rows[:limit], next_cursor)


@dataclass(frozen=True)
class ItemPage:
    rows: list[ItemColumns]
    next_cursor: str | None  # None: nothing after this page


async def item_page(
    session: AsyncSession, secret: bytes, filters: ExpenseFilters, *, cursor: str | None, limit: int
) -> ItemPage:
    """`page`, each row only what a search's item shows (`ITEM_ROWS`); the same rows, the same cursors."""
    after = decode_cursor(secret, filters, cursor) if cursor else None
    values = _page_values(filters, after, limit + 1)
    query = _page_query(_shape(filters), after=after is not None, items=True)
    rows: list[ItemColumns] = list((await (await session.connection()).execute(query, values)).all())
    last = rows[limit - 1] if len(rows) > limit else None
    next_cursor = None if last is None else encode_cursor(secret, filters, last.spent_on, last.id)
    return ItemPage(rows[:limit], next_cursor)


# Each statement is built once per shape of filters (which of them are set; `_Shape`), its values bound
# per call: building a page's select with its joins and conditions, and its cache key, cost more CPU than
# running it (a 90-day text search of the default company: the page 1.35-1.45 -> 0.76-0.84 ms, the count
# of matches 0.83-1.16 -> 0.30-0.46 ms, `docs/benchmarks.md`, issue 23 part 4).
_ESCAPE = "/"
# Set filters whose condition compares a column with the filter's value, bound under the filter's name.
_COMPARED: dict[str, Callable[[], ColumnElement[bool]]] = {
    "date_from": lambda: Expense.spent_on >= bindparam("date_from"),
    "date_to": lambda: Expense.spent_on <= bindparam("date_to"),
    "team_id": lambda: Expense.team_id == bindparam("team_id"),
    "employee_id": lambda: Expense.employee_id == bindparam("employee_id"),
    "category_id": lambda: Expense.category_id == bindparam("category_id"),
    "status": lambda: Expense.status == bindparam("status"),
    "min_minor": lambda: Expense.amount_company_minor >= bindparam("min_minor"),
    "max_minor": lambda: Expense.amount_company_minor <= bindparam("max_minor"),
    "cost_center": lambda: Expense.cost_center == bindparam("cost_center"),
    "project": lambda: Expense.project == bindparam("project"),
}


@dataclass(frozen=True)
class _Shape:
    """Which filters are set: what a statement's text depends on (their values are bound)."""

    compared: tuple[str, ...]  # names in `_COMPARED` whose filter is set, in its order
    uncategorized_only: bool
    missing_receipt: bool
    merchant_text: bool
    dimensions: int  # how many free dimensions are filtered on


def _shape(filters: ExpenseFilters) -> _Shape:
    return _Shape(
        compared=tuple(name for name in _COMPARED if getattr(filters, name) is not None),
        uncategorized_only=filters.uncategorized_only,
        missing_receipt=filters.missing_receipt,
        merchant_text=bool(filters.merchant_text),
        dimensions=len(filters.dimensions),
    )


def _bound(filters: ExpenseFilters) -> dict[str, Any]:
    """The values of the filters, under the names their shape's conditions bind."""
    values: dict[str, Any] = {"company_id": filters.company_id}
    values |= {name: getattr(filters, name) for name in _COMPARED if getattr(filters, name) is not None}
    if filters.merchant_text:
        needle = filters.merchant_text.lower()
        for special in (_ESCAPE, "%", "_"):  # the escape character first: it escapes the other two
            needle = needle.replace(special, _ESCAPE + special)
        values["mentions"] = f"%{needle}%"
    for i, (name, value) in enumerate(filters.dimensions):
        values[f"dimension_name_{i}"], values[f"dimension_value_{i}"] = name, value
    return values


@lru_cache(maxsize=256)
def _conditions(shape: _Shape) -> tuple[ColumnElement[bool], ...]:
    found: list[ColumnElement[bool]] = [Expense.company_id == bindparam("company_id")]
    found += [_COMPARED[name]() for name in shape.compared]
    if shape.uncategorized_only:
        found.append(Expense.category_id.is_(None))
    if shape.missing_receipt:
        found.append(Expense.receipt_present.is_(False))
    if shape.merchant_text:  # case-insensitive contains on the raw descriptor or the merchant's name
        mentions = bindparam("mentions", type_=String())
        found.append(
            or_(
                func.lower(Expense.descriptor).like(mentions, escape=_ESCAPE),
                func.lower(Merchant.name).like(mentions, escape=_ESCAPE),
            )
        )
    for i in range(shape.dimensions):  # each from the (company, name, value) index
        tagged = select(ExpenseDimension.expense_id).where(
            ExpenseDimension.company_id == bindparam("company_id"),
            ExpenseDimension.name == bindparam(f"dimension_name_{i}"),
            ExpenseDimension.value == bindparam(f"dimension_value_{i}"),
        )
        found.append(Expense.id.in_(tagged))
    return tuple(found)


@lru_cache(maxsize=256)
def _page_query(shape: _Shape, *, after: bool, items: bool = False) -> Select[Any]:
    """A page of `ROWS` (`items`: of `ITEM_ROWS`) newest first (date, then id, descending), up to `limit`;
    `after`: strictly after the keyset (`after_date`, `after_id`)."""
    query = (ITEM_ROWS if items else ROWS).where(*_conditions(shape))
    if after:
        spent_on = bindparam("after_date", type_=Expense.spent_on.type)
        expense_id = bindparam("after_id", type_=Expense.id.type)
        query = query.where(
            or_(Expense.spent_on < spent_on, and_(Expense.spent_on == spent_on, Expense.id < expense_id))
        )
    return query.order_by(Expense.spent_on.desc(), Expense.id.desc()).limit(bindparam("limit"))


async def search_page(
    session: AsyncSession, filters: ExpenseFilters, *, after: tuple[dt.date, int] | None, limit: int
) -> list[ExpenseRow]:
    """Up to `limit` rows, newest first (date, then id, descending), strictly after the keyset `after`."""
    query = _page_query(_shape(filters), after=after is not None)
    found = await session.execute(query, _page_values(filters, after, limit))
    return [ExpenseRow(*row) for row in found.all()]


def _page_values(filters: ExpenseFilters, after: tuple[dt.date, int] | None, limit: int) -> dict[str, Any]:
    values = _bound(filters) | {"limit": limit}
    if after is not None:
        values["after_date"], values["after_id"] = after
    return values


# ---- counts ----------------------------------------------------------------------------------------

# Counting every match of a text or amount filter means reading every expense of the period (a second
# on a large company, for a page that took milliseconds); past this many, "more than" is what an agent
# needs to narrow its question. The largest page: counting to 1,000 took 10-16 ms of a 60 ms search of
# the 1.7 M-expense company whose first page took 2.
COUNT_CAP = 200
# Stand-ins for an open end of the period: whole months from the first that holds a date (0001-02: January
# of year 1 would need its day before for the edge) to the last that has a day after.
_EARLIEST, _LATEST = dt.date(1, 2, 1), dt.date(9998, 12, 31)


@dataclass(frozen=True)
class MatchCount:
    count: int
    capped: bool  # more than `count` match


async def count_matching(session: AsyncSession, filters: ExpenseFilters, *, cap: int | None) -> MatchCount:
    """Exact when the monthly rollup can answer (period, team, category, uncategorized); otherwise exact up
    to `cap` (None: no cap)."""
    if _rollup_counts(filters):
        return MatchCount(await _count_by_months(session, filters), capped=False)
    values = _bound(filters) | ({} if cap is None else {"limit": cap + 1})
    count = int(await session.scalar(_count_query(_shape(filters), capped=cap is not None), values) or 0)
    return MatchCount(count, capped=False) if cap is None or count <= cap else MatchCount(cap, capped=True)


@lru_cache(maxsize=256)
def _count_query(shape: _Shape, *, capped: bool) -> Select[Any]:
    """How many expenses match, up to `limit` when `capped`."""
    matches = select(Expense.id).where(*_conditions(shape))
    if shape.merchant_text:
        matches = matches.join(Merchant, Merchant.id == Expense.merchant_id)
    if capped:
        matches = matches.limit(bindparam("limit"))
    return select(func.count()).select_from(matches.subquery())


def _rollup_counts(filters: ExpenseFilters) -> bool:
    """spend_monthly counts expenses per company, month, team and category, and nothing else."""
    return (
        filters.employee_id is None
        and not filters.merchant_text
        and filters.status is None
        and filters.min_minor is None
        and filters.max_minor is None
        and not filters.missing_receipt
        and filters.cost_center is None
        and filters.project is None
        and not filters.dimensions
    )


async def _count_by_months(session: AsyncSession, filters: ExpenseFilters) -> int:
    split = split_period(filters.date_from or _EARLIEST, filters.date_to or _LATEST)
    count = 0
    if split.months is not None:
        rollup = monthly_slices(
            filters.company_id,
            split.months,
            team_id=filters.team_id,
            category_id=filters.category_id,
            uncategorized=filters.uncategorized_only,
        )
        count += int(await session.scalar(select(func.sum(SpendMonthly.expenses)).where(*rollup)) or 0)
    for first, last in split.edges:
        edge = replace(filters, date_from=first, date_to=last)
        count += int(await session.scalar(_count_query(_shape(edge), capped=False), _bound(edge)) or 0)
    return count


# ---- cursors -------------------------------------------------------------------------------------
# A cursor is base64url(payload JSON + HMAC-SHA256(payload)). The payload holds the keyset (date and
# id of the last row served), the company and a hash of the resolved filters, so that a cursor cannot
# be forged, replayed against other filters, or carried over to another company.

CURSOR_VERSION = 1
_SIGNATURE_BYTES = 32
DAMAGED_CURSOR = (
    "this cursor is damaged or was not issued by this server; pass next_cursor exactly as it was "
    "returned, or start again without a cursor"
)
FOREIGN_CURSOR = "this cursor is not valid for these filters; start again without a cursor"


# Filters added after cursors were first issued count only when used: a cursor issued before them still
# continues its search.
_LATER_FILTERS = ("cost_center", "project", "dimensions")


def filters_digest(filters: ExpenseFilters) -> str:
    fields = dataclasses.asdict(filters)
    for name in _LATER_FILTERS:
        if not fields[name]:
            del fields[name]
    canonical = json.dumps(fields, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def encode_cursor(secret: bytes, filters: ExpenseFilters, last_date: dt.date, last_id: int) -> str:
    payload = {
        "v": CURSOR_VERSION,
        "c": filters.company_id,
        "f": filters_digest(filters),
        "d": last_date.isoformat(),
        "i": last_id,
    }
    return signed(secret, payload)


def signed(secret: bytes, payload: dict[str, Any]) -> str:
    """`payload` as an opaque cursor: its JSON and an HMAC of it, URL-safe."""
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    signature = hmac.new(secret, body, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(body + signature).decode().rstrip("=")


def verified(secret: bytes, cursor: str) -> dict[str, Any]:
    """The payload of a cursor `signed` with `secret`; `InvalidArgument` for any other text."""
    text = cursor.strip()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidArgument(DAMAGED_CURSOR) from None
    body, signature = raw[:-_SIGNATURE_BYTES], raw[-_SIGNATURE_BYTES:]
    if not body or not hmac.compare_digest(signature, hmac.new(secret, body, hashlib.sha256).digest()):
        raise InvalidArgument(DAMAGED_CURSOR)
    payload: dict[str, Any] = json.loads(body)
    return payload


def decode_cursor(secret: bytes, filters: ExpenseFilters, cursor: str) -> tuple[dt.date, int]:
    """The keyset a cursor resumes after; `InvalidArgument` unless this server issued it for these filters."""
    payload = verified(secret, cursor)
    if payload.get("v") != CURSOR_VERSION:
        raise InvalidArgument(DAMAGED_CURSOR)
    if payload["c"] != filters.company_id or payload["f"] != filters_digest(filters):
        raise InvalidArgument(FOREIGN_CURSOR)
    return dt.date.fromisoformat(payload["d"]), int(payload["i"])
