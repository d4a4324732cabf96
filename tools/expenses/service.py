"""The expenses use cases: resolve what the agent named, query, shape the answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from server.db.models import utc
from server.errors import NotFound
from server.kit import selection
from server.kit.approvals import decisions_for
from server.kit.money import money
from tools.expenses import logic, queries
from tools.expenses.schemas import (
    AppliedFilters,
    ApprovalRequestInfo,
    CategoryRef,
    ExpenseDetail,
    SearchExpensesOutput,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from server.context import Caller


async def search(
    session: AsyncSession, caller: Caller, secret: bytes, request: selection.SelectionRequest
) -> SearchExpensesOutput:
    resolved = await selection.resolve(session, caller, request)
    filters = resolved.filters
    page = await selection.item_page(session, secret, filters, cursor=request.cursor, limit=request.limit)
    if request.cursor is None and page.next_cursor is None:  # the first page holds every match
        matched = selection.MatchCount(len(page.rows), capped=False)
    else:
        matched = await selection.count_matching(session, filters, cap=selection.COUNT_CAP)
    return SearchExpensesOutput(
        items=[logic.expense_item(row, caller.currency) for row in page.rows],
        next_cursor=page.next_cursor,
        total_matched=matched.count,
        total_matched_capped=matched.capped,
        page_total=money(sum(row.amount_company_minor for row in page.rows), caller.currency),
        filters=applied_filters(resolved, request, caller.currency),
    )


def applied_filters(
    resolved: selection.Resolved, request: selection.SelectionRequest, currency: str
) -> AppliedFilters:
    filters, category = resolved.filters, resolved.category
    return AppliedFilters(
        date_from=request.date_from,
        date_to=request.date_to,
        team=None if resolved.team is None else resolved.team.name,
        employee=None if resolved.employee is None else logic.person(resolved.employee),
        merchant=filters.merchant_text,
        merchant_text=filters.merchant_text,
        category=None if category is None else CategoryRef(code=category.code, name=category.name),
        status=request.status,
        min_amount=None if filters.min_minor is None else money(filters.min_minor, currency),
        max_amount=None if filters.max_minor is None else money(filters.max_minor, currency),
        uncategorized_only=request.uncategorized_only,
        missing_receipt=request.missing_receipt,
        cost_center=filters.cost_center,
        project=filters.project,
        dimensions=dict(filters.dimensions),
    )


async def get_detail(session: AsyncSession, caller: Caller, ref: str) -> ExpenseDetail:
    found = await queries.expense_by_ref(session, caller.company_id, ref.strip())
    if found is None:
        raise NotFound(await _unknown_expense_message(session, caller.company_id, ref.strip()))
    row, requests = found.row, found.requests
    decisions = await decisions_for(session, caller.company_id, [request.id for request, _ in requests])
    approvals = [
        ApprovalRequestInfo(
            id=request.ref,
            status=request.status,
            requester=logic.person(requester),
            amount=money(request.amount_minor, request.currency),
            submitted_at=utc(request.submitted_at),
            decisions=[
                logic.decision_info(d.decision, d.approver, d.on_behalf_of)
                for d in decisions
                if d.decision.request_id == request.id
            ],
        )
        for request, requester in requests
    ]
    return logic.expense_detail(row, caller.currency, approvals, found.dimensions)


async def _unknown_expense_message(session: AsyncSession, company_id: int, ref: str) -> str:
    similar = await queries.refs_containing(session, company_id, ref, limit=3) if ref else []
    hint = (
        f"did you mean {' or '.join(repr(r) for r in similar)}?" if similar else "search_expenses lists ids"
    )
    return f"no expense with id {ref!r}; {hint}"
