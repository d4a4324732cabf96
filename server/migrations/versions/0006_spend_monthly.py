"""spend_monthly: each team's spend per month and category, for summarize_spend's whole months

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28

A surrogate key: a NULL category (uncategorized) cannot be part of a primary key, and a unique index
treats NULLs as distinct on both backends. So the unique index holds for categorized rows, and the
writers (import: the company; categorize_expenses: the (team, month) slices it touched) replace whole
slices, which keeps one uncategorized row per slice without an upsert on a NULL key.

PostgreSQL: the tenant policy of 0005 (the same SQL: a migration must not change when a later one does),
and what categorize_expenses needs as the tool-call role: read, and replace the slices it recounts.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from server.settings import Settings

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
POLICY = "tenant_isolation"
MONTH_START = {
    "postgresql": "CAST(date_trunc('month', spent_on) AS date)",
    "sqlite": "date(spent_on, 'start of month')",
}


def upgrade() -> None:
    op.create_table(
        "spend_monthly",
        sa.Column("id", ID, nullable=False),
        sa.Column("company_id", ID, nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("team_id", ID, nullable=False),
        sa.Column("category_id", ID, nullable=True),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("expenses", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_spend_monthly_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_spend_monthly_team_id_teams")),
        sa.ForeignKeyConstraint(
            ["category_id"], ["categories.id"], name=op.f("fk_spend_monthly_category_id_categories")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spend_monthly")),
    )
    op.create_index("ix_spend_monthly_company_month", "spend_monthly", ["company_id", "month"])
    op.create_index(
        "uq_spend_monthly_slice",
        "spend_monthly",
        ["company_id", "team_id", "month", "category_id"],
        unique=True,
    )
    bind = op.get_bind()
    # Companies imported before this revision; imports rebuild it from now on (server/db/rollups.py).
    month = MONTH_START[bind.dialect.name]
    op.execute(f"""
        INSERT INTO spend_monthly (company_id, month, team_id, category_id, total_minor, expenses)
        SELECT company_id, {month}, team_id, category_id, SUM(amount_company_minor), COUNT(*)
        FROM expenses GROUP BY company_id, {month}, team_id, category_id""")
    if bind.dialect.name == "postgresql":
        _postgres_tenancy(Settings().tenant_role)


def _postgres_tenancy(role: str) -> None:
    setting = "NULLIF(current_setting('outlay.company_id', true), '')"
    op.execute("ALTER TABLE spend_monthly ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE spend_monthly FORCE ROW LEVEL SECURITY")
    op.execute(f"""
        CREATE POLICY {POLICY} ON spend_monthly
        USING (company_id = {setting}::bigint OR ({setting} IS NULL AND current_user <> '{role}'))""")
    op.execute(f"GRANT SELECT, INSERT, DELETE ON spend_monthly TO {role}")
    op.execute(f"GRANT USAGE ON SEQUENCE spend_monthly_id_seq TO {role}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        role = Settings().tenant_role
        op.execute(f"REVOKE ALL ON SEQUENCE spend_monthly_id_seq FROM {role}")
        op.execute(f"REVOKE ALL ON spend_monthly FROM {role}")
    op.drop_table("spend_monthly")  # its indexes and policy go with it
