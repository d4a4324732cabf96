"""the company's country

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

- companies.country: ISO 3166-1 alpha-2 (optional column of company.csv), whose public holidays the
  forecasts expect less spend on; companies imported before this revision have none (no holidays).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("companies", sa.Column("country", sa.String(length=2), nullable=True))


def downgrade() -> None:
    # Not Alembic's batch mode on SQLite: it copies the table and drops the old one, and dropping
    # companies would cascade into every table that references it.
    if op.get_bind().dialect.name == "postgresql":
        op.drop_column("companies", "country")
    else:
        op.execute("ALTER TABLE companies DROP COLUMN country")
