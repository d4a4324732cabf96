"""spend rollups: team_daily_spend, repeat_charges, and a (team, category, day) index on expenses

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# Companies imported before this revision get their rollups here; imports rebuild them from now on
# (server/db/rollups.py holds the same two statements).
BACKFILL = (
    """
    INSERT INTO team_daily_spend (company_id, team_id, spent_on, total_minor, expenses)
    SELECT company_id, team_id, spent_on, SUM(amount_company_minor), COUNT(*)
    FROM expenses GROUP BY company_id, team_id, spent_on
    """,
    """
    INSERT INTO repeat_charges (expense_id, company_id, team_id, merchant_id, spent_on, amount_minor)
    SELECT e.id, e.company_id, e.team_id, e.merchant_id, e.spent_on, e.amount_company_minor
    FROM expenses e JOIN (
        SELECT company_id, team_id, merchant_id FROM expenses
        GROUP BY company_id, team_id, merchant_id
        HAVING COUNT(*) >= 2 AND MIN(amount_company_minor) > 0
           AND MAX(amount_company_minor) <= 3 * MIN(amount_company_minor)
    ) pairs ON pairs.company_id = e.company_id AND pairs.team_id = e.team_id
           AND pairs.merchant_id = e.merchant_id
    """,
)


def upgrade() -> None:
    op.create_table(
        "team_daily_spend",
        sa.Column("company_id", ID, nullable=False),
        sa.Column("team_id", ID, nullable=False),
        sa.Column("spent_on", sa.Date(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("expenses", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_team_daily_spend_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_team_daily_spend_team_id_teams")),
        sa.PrimaryKeyConstraint("company_id", "team_id", "spent_on", name=op.f("pk_team_daily_spend")),
    )
    op.create_table(
        "repeat_charges",
        sa.Column("expense_id", ID, nullable=False),
        sa.Column("company_id", ID, nullable=False),
        sa.Column("team_id", ID, nullable=False),
        sa.Column("merchant_id", ID, nullable=False),
        sa.Column("spent_on", sa.Date(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_repeat_charges_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["expense_id"],
            ["expenses.id"],
            name=op.f("fk_repeat_charges_expense_id_expenses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_repeat_charges_merchant_id_merchants")
        ),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_repeat_charges_team_id_teams")),
        sa.PrimaryKeyConstraint("expense_id", name=op.f("pk_repeat_charges")),
    )
    op.create_index(
        "ix_repeat_charges_company_team", "repeat_charges", ["company_id", "team_id"], unique=False
    )
    op.create_index(
        "ix_expenses_company_team_category_spent_on",
        "expenses",
        ["company_id", "team_id", "category_id", "spent_on"],
        unique=False,
    )
    for statement in BACKFILL:
        op.execute(statement)


def downgrade() -> None:
    op.drop_index("ix_expenses_company_team_category_spent_on", table_name="expenses")
    op.drop_index("ix_repeat_charges_company_team", table_name="repeat_charges")
    op.drop_table("repeat_charges")
    op.drop_table("team_daily_spend")
