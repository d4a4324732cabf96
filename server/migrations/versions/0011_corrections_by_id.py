"""the corrections read back by id

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

- category_corrections: the categorizer catches up on a company's corrections by id at every call
  (`id > last seen`, newest first); (company_id, merchant_key) served a by-merchant read that no longer
  exists, so it gives way to (company_id, id).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_category_corrections_company_merchant", table_name="category_corrections")
    op.create_index("ix_category_corrections_company_id", "category_corrections", ["company_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_category_corrections_company_id", table_name="category_corrections")
    op.create_index(
        "ix_category_corrections_company_merchant", "category_corrections", ["company_id", "merchant_key"]
    )
