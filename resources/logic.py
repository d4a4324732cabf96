"""Pure assembly of the resource documents."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING

from resources.schemas import (
    BudgetDoc,
    CategoryDoc,
    CategoryRefDoc,
    ExpensePolicyDoc,
    PersonDoc,
    TeamNode,
)
from server.kit.expense_policy import NO_POLICY, ExpensePolicy
from server.kit.money import format_amount
from server.kit.periods import period_label

if TYPE_CHECKING:
    from server.db.models import Budget, Category, Employee, Team


NO_EXPENSE_POLICY = (
    "No expense policy is loaded (expense_policy.json in an import, or `outlay policy load FILE`): "
    "review_expenses checks no rules and looks for its patterns only, with the settings shown."
)


def expense_policy_doc(
    company: str, currency: str, found: tuple[int, ExpensePolicy] | None
) -> ExpensePolicyDoc:
    version, policy = found if found is not None else (None, NO_POLICY)
    note = (
        NO_EXPENSE_POLICY
        if version is None
        else f"Version {version} is in force: review_expenses checks every rule and looks for the patterns."
    )
    return ExpensePolicyDoc(
        company=company,
        loaded=version is not None,
        version=version,
        currency=policy.currency or currency,
        policy=policy.model_dump(mode="json", exclude_none=True),
        note=note,
    )


def category_docs(rows: list[tuple[Category, str | None]]) -> list[CategoryDoc]:
    """Sorted by code here rather than in SQL: database collations differ."""
    return sorted((category_doc(category, parent) for category, parent in rows), key=lambda doc: doc.code)


def category_doc(category: Category, parent_code: str | None) -> CategoryDoc:
    return CategoryDoc(
        code=category.code,
        name=category.name,
        parent_code=parent_code,
        gl_account=category.gl_account,
        vat_rate=None if category.vat_rate_bp is None else str(Decimal(category.vat_rate_bp) / 100),
        description=category.description,
        mcc_codes=[str(code) for code in category.mcc_codes],
    )


def team_tree(teams: list[tuple[Team, Employee | None]], headcounts: dict[int, int]) -> list[TeamNode]:
    """Nest teams under their parents, every level sorted by name (in Python: collations differ)."""
    children: dict[int | None, list[tuple[Team, Employee | None]]] = defaultdict(list)
    known = {team.id for team, _ in teams}
    for team, manager in sorted(teams, key=lambda pair: pair[0].name):
        parent = team.parent_id if team.parent_id in known else None
        children[parent].append((team, manager))

    def nodes(parent: int | None) -> list[TeamNode]:
        return [
            TeamNode(
                name=team.name,
                cost_center=team.cost_center,
                manager=None if manager is None else PersonDoc(email=manager.email, name=manager.name),
                headcount=headcounts.get(team.id, 0),
                children=nodes(team.id),
            )
            for team, manager in children[parent]
        ]

    return nodes(None)


def budget_doc(budget: Budget, team: Team, category: Category | None) -> BudgetDoc:
    return BudgetDoc(
        team=team.name,
        category=None if category is None else CategoryRefDoc(code=category.code, name=category.name),
        period=period_label(budget.period_start, budget.period_end),
        date_from=budget.period_start,
        date_to=budget.period_end,
        amount=format_amount(budget.amount_minor, budget.currency),
    )


def budget_docs(rows: list[tuple[Budget, Team, Category | None]]) -> list[BudgetDoc]:
    """Longest periods first, then by team and category (sorted here: database collations differ)."""
    docs = [budget_doc(budget, team, category) for budget, team, category in rows]
    return sorted(
        docs,
        key=lambda doc: (
            doc.date_from - doc.date_to,
            doc.date_from,
            doc.team,
            doc.category.code if doc.category else "",
        ),
    )
