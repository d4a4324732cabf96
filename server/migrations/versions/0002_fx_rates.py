"""fx rates: exchange rates into the company currency (fx_rates.csv)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # A new table only: no ALTER, so the same statements run on SQLite and PostgreSQL.
    op.create_table(
        "fx_rates",
        sa.Column("id", ID, nullable=False),
        sa.Column("company_id", ID, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rate", sa.String(length=40), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_fx_rates_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fx_rates")),
        sa.UniqueConstraint(
            "company_id", "currency", "valid_from", name=op.f("uq_fx_rates_company_id_currency_valid_from")
        ),
    )
    op.create_index(op.f("ix_fx_rates_company_id"), "fx_rates", ["company_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_fx_rates_company_id"), table_name="fx_rates")
    op.drop_table("fx_rates")
