"""merchant_monthly and employee_monthly: a company's spend per month and merchant, and per month and employee

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07

summarize_spend grouped a year of a large company by merchant or by employee over every expense of the
year (600,000 rows, ~300 ms, more than a generic SQL server's plain GROUP BY: issue 23); a year of these
rollups is a few thousand rows. Derived like spend_monthly and rebuilt by every import, the only writer of
amounts, dates, merchants and employees; categorization changes none of what they split by. A surrogate
key: an expense may name no employee, and a NULL cannot be part of a primary key.

PostgreSQL: the tenant policy of 0005 (the same SQL: a migration must not change when a later one does);
the tool-call role only reads them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from server.settings import Settings

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
POLICY = "tenant_isolation"
MONTH_START = {
    "postgresql": "CAST(date_trunc('month', spent_on) AS date)",
    "sqlite": "date(spent_on, 'start of month')",
}
ROLLUPS = {"merchant_monthly": ("merchant_id", "merchants"), "employee_monthly": ("employee_id", "employees")}


def upgrade() -> None:
    bind = op.get_bind()
    month = MONTH_START[bind.dialect.name]
    for table, (column, target) in ROLLUPS.items():
        op.create_table(
            table,
            sa.Column("id", ID, nullable=False),
            sa.Column("company_id", ID, nullable=False),
            sa.Column("month", sa.Date(), nullable=False),
            sa.Column(column, ID, nullable=column == "employee_id"),
            sa.Column("total_minor", sa.BigInteger(), nullable=False),
            sa.Column("expenses", sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(
                ["company_id"],
                ["companies.id"],
                name=op.f(f"fk_{table}_company_id_companies"),
                ondelete="CASCADE",
            ),
            sa.ForeignKeyConstraint(
                ["company_id", column],
                [f"{target}.company_id", f"{target}.id"],
                name=op.f(f"fk_{table}_{column}_{target}"),
            ),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        )
        op.create_index(f"ix_{table}_company_month", table, ["company_id", "month"])
        # Companies imported before this revision; imports rebuild them from now on (server/db/rollups.py).
        op.execute(f"""
            INSERT INTO {table} (company_id, month, {column}, total_minor, expenses)
            SELECT company_id, {month}, {column}, SUM(amount_company_minor), COUNT(*)
            FROM expenses GROUP BY company_id, {month}, {column}""")
        if bind.dialect.name == "postgresql":
            _postgres_tenancy(table, Settings().tenant_role)


def _postgres_tenancy(table: str, role: str) -> None:
    setting = "NULLIF(current_setting('outlay.company_id', true), '')"
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"""
        CREATE POLICY {POLICY} ON {table}
        USING (company_id = {setting}::bigint OR ({setting} IS NULL AND current_user <> '{role}'))""")
    op.execute(f"GRANT SELECT ON {table} TO {role}")


def downgrade() -> None:
    for table in ROLLUPS:
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"REVOKE ALL ON {table} FROM {Settings().tenant_role}")
        op.drop_table(table)  # its indexes and policy go with it
