"""the expense policy and the expense fields its review reads

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07

- expense_policies: a company's expense policy (expense_policy.json, or `outlay policy load`), one row
  per version, exactly like approval_policies; the highest version is in force;
- expenses.card: a masked card reference (duplicates across cards, per-card limits);
- expenses.receipt_id: the receipt's id in the expense tool (one receipt on two expenses is a duplicate),
  indexed with the company;
- expenses.country: ISO 3166-1 alpha-2 code of where the expense was spent (per-country caps).

PostgreSQL: the tenant policy of 0005 on the new table (the same SQL: a migration must not change when a
later one does); the tool-call role reads it, as it reads approval_policies. SQLite adds and drops the
columns and the index in place: no table is rebuilt.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from server.settings import Settings

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
POLICY = "tenant_isolation"
RECEIPT_INDEX = "ix_expenses_company_receipt_id"
COLUMNS = (("card", 32), ("receipt_id", 64), ("country", 2))


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_table(
        "expense_policies",
        sa.Column("id", ID, nullable=False),
        sa.Column("company_id", ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_expense_policies_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expense_policies")),
        sa.UniqueConstraint("company_id", "version", name=op.f("uq_expense_policies_company_id_version")),
    )
    op.create_index(op.f("ix_expense_policies_company_id"), "expense_policies", ["company_id"])
    for column, length in COLUMNS:
        op.add_column("expenses", sa.Column(column, sa.String(length=length), nullable=True))
    op.create_index(RECEIPT_INDEX, "expenses", ["company_id", "receipt_id"])
    if _postgres():
        _postgres_tenancy(Settings().tenant_role)


def _postgres_tenancy(role: str) -> None:
    setting = "NULLIF(current_setting('outlay.company_id', true), '')"
    op.execute("ALTER TABLE expense_policies ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE expense_policies FORCE ROW LEVEL SECURITY")
    op.execute(f"""
        CREATE POLICY {POLICY} ON expense_policies
        USING (company_id = {setting}::bigint OR ({setting} IS NULL AND current_user <> '{role}'))""")
    op.execute(f"GRANT SELECT ON expense_policies TO {role}")


def downgrade() -> None:
    if _postgres():
        op.execute(f"REVOKE ALL ON expense_policies FROM {Settings().tenant_role}")
    op.drop_index(RECEIPT_INDEX, table_name="expenses")
    for column, _length in reversed(COLUMNS):
        _drop_column("expenses", column)
    op.drop_table("expense_policies")  # its index and policy go with it


def _drop_column(table: str, column: str) -> None:
    # Not Alembic's batch mode on SQLite: it copies the table and drops the old one, which would cascade.
    if _postgres():
        op.drop_column(table, column)
    else:  # SQLite >= 3.35 drops a column in place
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
