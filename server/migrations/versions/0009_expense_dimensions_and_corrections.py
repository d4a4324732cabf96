"""expense dimensions, categorizer corrections and the auto-apply target

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

- expenses.cost_center and expenses.project: optional per-expense dimensions of real card and expense
  exports (indexed with the company, for filters and groupings);
- expense_dimensions: the free analytical fields (`dim_<name>` columns of expenses.csv), a row per
  (expense, name); companies.dimensions lists the names a company's import declared;
- category_corrections: a person's correction of an expense's category (recategorize_expense), which the
  categorizer reads at once (by merchant) and weighs up in its next training;
- companies.categorize_target_precision (default 0.97), from which training chooses the auto-apply
  threshold, and categorize_auto_apply_given: whether company.csv set the threshold itself (companies
  imported before this revision: when their threshold is not the old default, 0.95).

PostgreSQL: the tenant policy of 0005 on the new tables (the same SQL: a migration must not change when
a later one does); the tool-call role reads them and inserts corrections.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from server.settings import Settings

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
POLICY = "tenant_isolation"


def upgrade() -> None:
    op.add_column("expenses", sa.Column("cost_center", sa.String(length=64), nullable=True))
    op.add_column("expenses", sa.Column("project", sa.String(length=64), nullable=True))
    op.create_index("ix_expenses_company_cost_center", "expenses", ["company_id", "cost_center"])
    op.create_index("ix_expenses_company_project", "expenses", ["company_id", "project"])
    op.create_table(
        "expense_dimensions",
        sa.Column("expense_id", ID, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("company_id", ID, nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["expense_id"],
            ["expenses.id"],
            name=op.f("fk_expense_dimensions_expense_id_expenses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_expense_dimensions_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("expense_id", "name", name=op.f("pk_expense_dimensions")),
    )
    op.create_index(
        "ix_expense_dimensions_company_name_value", "expense_dimensions", ["company_id", "name", "value"]
    )
    op.create_table(
        "category_corrections",
        sa.Column("id", ID, nullable=False),
        sa.Column("company_id", ID, nullable=False),
        sa.Column("expense_id", ID, nullable=False),
        sa.Column("merchant_key", sa.String(length=200), nullable=False),
        sa.Column("category_id", ID, nullable=False),
        sa.Column("previous_category_id", ID, nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_category_corrections_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["expense_id"],
            ["expenses.id"],
            name=op.f("fk_category_corrections_expense_id_expenses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["category_id"], ["categories.id"], name=op.f("fk_category_corrections_category_id_categories")
        ),
        sa.ForeignKeyConstraint(
            ["previous_category_id"],
            ["categories.id"],
            name=op.f("fk_category_corrections_previous_category_id_categories"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_category_corrections")),
    )
    op.create_index(
        "ix_category_corrections_company_merchant", "category_corrections", ["company_id", "merchant_key"]
    )
    op.create_index("ix_category_corrections_expense_id", "category_corrections", ["expense_id"])
    op.add_column("companies", sa.Column("dimensions", sa.JSON(), nullable=False, server_default="[]"))
    op.add_column(
        "companies",
        sa.Column("categorize_target_precision", sa.Float(), nullable=False, server_default="0.97"),
    )
    op.add_column(
        "companies",
        sa.Column("categorize_auto_apply_given", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.execute(
        "UPDATE companies SET categorize_auto_apply_given = "
        f"{'true' if op.get_bind().dialect.name == 'postgresql' else '1'} "
        "WHERE categorize_auto_apply_threshold <> 0.95"
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgres_tenancy(Settings().tenant_role)


def _postgres_tenancy(role: str) -> None:
    setting = "NULLIF(current_setting('outlay.company_id', true), '')"
    for table in ("expense_dimensions", "category_corrections"):
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"""
            CREATE POLICY {POLICY} ON {table}
            USING (company_id = {setting}::bigint OR ({setting} IS NULL AND current_user <> '{role}'))""")
        op.execute(f"GRANT SELECT ON {table} TO {role}")
    op.execute(f"GRANT INSERT ON category_corrections TO {role}")
    op.execute(f"GRANT USAGE ON SEQUENCE category_corrections_id_seq TO {role}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        role = Settings().tenant_role
        op.execute(f"REVOKE ALL ON SEQUENCE category_corrections_id_seq FROM {role}")
        for table in ("expense_dimensions", "category_corrections"):
            op.execute(f"REVOKE ALL ON {table} FROM {role}")
    for column in ("categorize_auto_apply_given", "categorize_target_precision", "dimensions"):
        _drop_column("companies", column)
    op.drop_table("category_corrections")  # its indexes and policy go with it
    op.drop_table("expense_dimensions")
    op.drop_index("ix_expenses_company_project", table_name="expenses")
    op.drop_index("ix_expenses_company_cost_center", table_name="expenses")
    for column in ("project", "cost_center"):
        _drop_column("expenses", column)


def _drop_column(table: str, column: str) -> None:
    # Not Alembic's batch mode on SQLite: it copies the table and drops the old one, and dropping
    # companies or expenses would cascade into every table that references them.
    if op.get_bind().dialect.name == "postgresql":
        op.drop_column(table, column)
    else:
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
