"""categorizer: company thresholds and merchant -> category rules (category_rules.csv)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Added columns with a server default: existing companies get the defaults, no table rebuild.
    op.add_column(
        "companies",
        sa.Column("categorize_review_threshold", sa.Float(), server_default="0.8", nullable=False),
    )
    op.add_column(
        "companies",
        sa.Column("categorize_auto_apply_threshold", sa.Float(), server_default="0.95", nullable=False),
    )
    op.create_table(
        "category_rules",
        sa.Column("id", ID, nullable=False),
        sa.Column("company_id", ID, nullable=False),
        sa.Column("merchant_key", sa.String(length=200), nullable=False),
        sa.Column("merchant", sa.String(length=200), nullable=False),
        sa.Column("category_id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"], ["categories.id"], name=op.f("fk_category_rules_category_id_categories")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_category_rules_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_category_rules")),
        sa.UniqueConstraint(
            "company_id", "merchant_key", name=op.f("uq_category_rules_company_id_merchant_key")
        ),
    )
    op.create_index(op.f("ix_category_rules_company_id"), "category_rules", ["company_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_category_rules_company_id"), table_name="category_rules")
    op.drop_table("category_rules")
    with op.batch_alter_table("companies") as batch:
        batch.drop_column("categorize_auto_apply_threshold")
        batch.drop_column("categorize_review_threshold")
