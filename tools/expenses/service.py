"""The expenses use cases: resolve what the agent named, query, shape the answer."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from server.errors import InvalidArgument, NotFound
from server.money import MoneyError, to_minor
from server.resolve import given, resolve_category, resolve_employee, resolve_team
from tools.expenses import logic, queries
from tools.expenses.schemas import (
    AppliedFilters,
    ApprovalRequestInfo,
    CategoryRef,
    ExpenseDetail,
    SearchExpensesOutput,
    SearchRequest,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from server.context import Caller


async def search(
    session: AsyncSession, caller: Caller, secret: bytes, request: SearchRequest
) -> SearchExpensesOutput:
    filters, applied = await resolve_filters(session, caller, request)
    after = logic.decode_cursor(secret, filters, request.cursor) if request.cursor else None
    rows = await queries.search_page(session, filters, after=after, limit=request.limit + 1)
    page = rows[: request.limit]
    last = page[-1].expense if len(rows) > request.limit else None
    matched = await queries.count_matching(session, filters, cap=queries.COUNT_CAP)
    return SearchExpensesOutput(
        items=[logic.expense_item(row, caller.currency) for row in page],
        next_cursor=None if last is None else logic.encode_cursor(secret, filters, last.spent_on, last.id),
        total_matched=matched.count,
        total_matched_capped=matched.capped,
        page_total=logic.money(sum(row.expense.amount_company_minor for row in page), caller.currency),
        filters=applied,
    )


async def resolve_filters(
    session: AsyncSession, caller: Caller, request: SearchRequest
) -> tuple[queries.ExpenseFilters, AppliedFilters]:
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
    filters = queries.ExpenseFilters(
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
    )
    applied = AppliedFilters(
        date_from=request.date_from,
        date_to=request.date_to,
        team=None if team is None else team.name,
        employee=None if employee is None else logic.person(employee),
        merchant_text=filters.merchant_text,
        category=None if category is None else CategoryRef(code=category.code, name=category.name),
        status=request.status,
        min_amount=None if min_minor is None else logic.money(min_minor, caller.currency),
        max_amount=None if max_minor is None else logic.money(max_minor, caller.currency),
        uncategorized_only=request.uncategorized_only,
        missing_receipt=request.missing_receipt,
    )
    return filters, applied


async def get_detail(session: AsyncSession, caller: Caller, ref: str) -> ExpenseDetail:
    found = await queries.expense_by_ref(session, caller.company_id, ref.strip())
    if found is None:
        raise NotFound(await _unknown_expense_message(session, caller.company_id, ref.strip()))
    row, requests = found.row, found.requests
    decisions = await queries.decisions_for(
        session, caller.company_id, [request.id for request, _ in requests]
    )
    approvals = [
        ApprovalRequestInfo(
            id=request.ref,
            status=request.status,
            requester=logic.person(requester),
            amount=logic.money(request.amount_minor, request.currency),
            submitted_at=logic.utc(request.submitted_at),
            decisions=[
                logic.decision_info(d.decision, d.approver, d.on_behalf_of)
                for d in decisions
                if d.decision.request_id == request.id
            ],
        )
        for request, requester in requests
    ]
    return logic.expense_detail(row, caller.currency, approvals)


async def _unknown_expense_message(session: AsyncSession, company_id: int, ref: str) -> str:
    similar = await queries.refs_containing(session, company_id, ref, limit=3) if ref else []
    hint = (
        f"did you mean {' or '.join(repr(r) for r in similar)}?" if similar else "search_expenses lists ids"
    )
    return f"no expense with id {ref!r}; {hint}"


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
