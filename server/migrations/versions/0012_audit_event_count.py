"""audit events that stand for several refusals

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-09

- audit_events.count: how many events a row stands for. Every call's row is one (the default, also for
  the rows already there); the abuse limits' refusals are written as one row per caller, limit and
  minute with their count (kind `limit`), never one insert per refused request. The table keeps its
  append-only triggers: SQLite adds (and drops) the column in place, where Alembic's copy of the table
  would lose them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("audit_events", sa.Column("count", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    # The `limit` rows stay (the trail is append-only) but no longer say how many refusals they counted.
    if op.get_bind().dialect.name == "postgresql":
        op.drop_column("audit_events", "count")
    else:  # SQLite >= 3.35 drops a column in place
        op.execute('ALTER TABLE audit_events DROP COLUMN "count"')
