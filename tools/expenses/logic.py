"""Pure logic of the expenses capability: rows → output models, summaries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from server.db.models import utc
from server.kit.merchants import mcc_description
from server.kit.money import grouped, money
from tools.expenses.schemas import (
    ApprovalDecisionInfo,
    ApprovalRequestInfo,
    CategoryAssignment,
    ExpenseDetail,
    ExpenseItem,
    MerchantInfo,
    Person,
    SearchExpensesOutput,
    TeamInfo,
)

if TYPE_CHECKING:
    from server.db.models import ApprovalDecision, Employee
    from server.kit.expense_rows import (
        CategoryColumns,
        ExpenseColumns,
        ExpenseRow,
        ItemColumns,
        PersonColumns,
    )


def person(employee: PersonColumns) -> Person:
    return Person(email=employee.email, name=employee.name)


def spender(employee: PersonColumns | None) -> Person | None:
    """An expense's employee; None when its export named no one (a card statement without holders)."""
    return None if employee is None else person(employee)


def category_assignment(
    expense: ExpenseColumns, category: CategoryColumns | None
) -> CategoryAssignment | None:
    if category is None:
        return None
    return CategoryAssignment(
        code=category.code,
        name=category.name,
        source=expense.category_source,
        confidence=expense.category_confidence,
    )


def expense_item(row: ItemColumns, company_currency: str) -> ExpenseItem:
    """A search result's item, from its flat row (`server.kit.expense_rows.ITEM_ROWS`)."""
    employee, code, name = row.employee_email, row.category_code, row.category_name
    return ExpenseItem(
        id=row.ref,
        date=row.spent_on,
        employee=None if employee is None else Person(email=employee, name=str(row.employee_name)),
        team=row.team,
        merchant=row.merchant,
        descriptor=row.descriptor,
        amount=money(row.amount_minor, row.currency),
        amount_company=money(row.amount_company_minor, company_currency),
        category=None
        if code is None or name is None
        else CategoryAssignment(
            code=code, name=name, source=row.category_source, confidence=row.category_confidence
        ),
        status=row.status,
        receipt_attached=row.receipt_present,
    )


def expense_detail(
    row: ExpenseRow, company_currency: str, approvals: list[ApprovalRequestInfo], dimensions: dict[str, str]
) -> ExpenseDetail:
    expense = row.expense
    mcc = expense.mcc or row.merchant.mcc
    return ExpenseDetail(
        id=expense.ref,
        date=expense.spent_on,
        descriptor=expense.descriptor,
        memo=expense.memo,
        amount=money(expense.amount_minor, expense.currency),
        amount_company=money(expense.amount_company_minor, company_currency),
        status=expense.status,
        payment_type=expense.payment_type,
        merchant=MerchantInfo(name=row.merchant.name, mcc=mcc, mcc_description=mcc_description(mcc)),
        category=category_assignment(expense, row.category),
        employee=spender(row.employee),
        team=TeamInfo(name=row.team.name, cost_center=row.team.cost_center),
        receipt_attached=expense.receipt_present,
        approvals=approvals,
        cost_center=expense.cost_center,
        project=expense.project,
        dimensions=dimensions,
    )


def decision_info(
    decision: ApprovalDecision, approver: Employee, on_behalf_of: Employee | None
) -> ApprovalDecisionInfo:
    return ApprovalDecisionInfo(
        step=decision.step,
        approver=person(approver),
        on_behalf_of=None if on_behalf_of is None else person(on_behalf_of),
        decision=decision.decision,
        decided_at=utc(decision.decided_at),
    )


# ---- summaries (the short text beside the structured content) ------------------------------------


def search_summary(output: SearchExpensesOutput) -> str:
    if not output.items:
        return "No expenses match these filters." if output.total_matched == 0 else "No more expenses."
    count = len(output.items)
    noun = "expense" if count == 1 else "expenses"
    total = f"{grouped(output.page_total.amount)} {output.page_total.currency}"
    more = "more available (pass next_cursor)" if output.next_cursor else "no more pages"
    matching = f"{'more than ' if output.total_matched_capped else ''}{output.total_matched}"
    return f"{count} {noun} of {matching} matching, {total} in this page; {more}"


def detail_summary(detail: ExpenseDetail) -> str:
    amount = f"{grouped(detail.amount.amount)} {detail.amount.currency}"
    category = f"category {detail.category.code}" if detail.category else "uncategorized"
    receipt = "receipt attached" if detail.receipt_attached else "no receipt"
    approvals = f"{len(detail.approvals)} approval request(s)"
    spent_by = f"by {detail.employee.name}" if detail.employee else "by no named employee"
    return (
        f"{detail.id} on {detail.date.isoformat()}: {amount} at {detail.merchant.name} {spent_by} "
        f"({detail.team.name}); {category}; {detail.status}; {receipt}; {approvals}."
    )
