"""repeat_charges keeps the charges alone at their (team, merchant): a licence charged once so far

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07

The anniversary renewals of forecast_budget (tools/forecast/renewal.py) read the charges of (team,
merchant) pairs billed once from repeat_charges, which every import now rebuilds with them
(server/db/rollups.py). Companies imported before this revision get theirs here, so that their once-seen
licences are expected at their anniversary without waiting for the next import. No schema change; the
downgrade removes them again (the same rows the new rebuild adds: pairs with one positive charge).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SINGLE_CHARGES = """
    SELECT company_id, team_id, merchant_id FROM expenses
    GROUP BY company_id, team_id, merchant_id
    HAVING COUNT(*) = 1 AND MIN(amount_company_minor) > 0"""


def upgrade() -> None:
    op.execute(f"""
        INSERT INTO repeat_charges (expense_id, company_id, team_id, merchant_id, spent_on, amount_minor)
        SELECT e.id, e.company_id, e.team_id, e.merchant_id, e.spent_on, e.amount_company_minor
        FROM expenses AS e
        JOIN ({SINGLE_CHARGES}) AS single
          ON single.company_id = e.company_id AND single.team_id = e.team_id
         AND single.merchant_id = e.merchant_id
        WHERE NOT EXISTS (SELECT 1 FROM repeat_charges AS r WHERE r.expense_id = e.id)""")


def downgrade() -> None:
    op.execute(f"""
        DELETE FROM repeat_charges WHERE expense_id IN (
            SELECT e.id FROM expenses AS e
            JOIN ({SINGLE_CHARGES}) AS single
              ON single.company_id = e.company_id AND single.team_id = e.team_id
             AND single.merchant_id = e.merchant_id)""")
