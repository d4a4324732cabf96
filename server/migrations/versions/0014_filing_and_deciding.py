"""approvals that act: requests filed and decided through tool calls

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07

- approval_requests.filed_by, filed_on_behalf: who filed a request with submit_spend_request (the
  person's e-mail; or the token's subject, on the requester's behalf, when a service without a user
  filed it); null and false for the requests imported before and after;
- approval_requests.idempotency_key, unique with the company: the same key files one request;
- approval_decisions.comment: the decider's words (decide_approval requires them to reject);
- approval_decisions gets a unique (request_id, step): of two people deciding one step at once, the
  second is refused by the database itself. The import already refuses a second decision of a step; a
  database that holds one anyway is refused before anything changes, with the rows.

PostgreSQL: both tables already have the tenant policy of 0005 (its USING also checks the rows a
tool call inserts or updates); the tool-call role may now insert requests and decisions and update a
request's status (which also lets it lock the request row while it decides). SQLite adds and drops the
columns and indexes in place: no table is rebuilt.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

from server.settings import Settings

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY_INDEX = "uq_approval_requests_company_idempotency_key"
STEP_INDEX = "uq_approval_decisions_request_step"
LISTED = 20


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    _refuse_repeated_steps()
    op.add_column("approval_requests", sa.Column("filed_by", sa.String(length=200), nullable=True))
    op.add_column(
        "approval_requests",
        sa.Column("filed_on_behalf", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("approval_requests", sa.Column("idempotency_key", sa.String(length=200), nullable=True))
    op.create_index(KEY_INDEX, "approval_requests", ["company_id", "idempotency_key"], unique=True)
    op.add_column("approval_decisions", sa.Column("comment", sa.Text(), nullable=True))
    op.create_index(STEP_INDEX, "approval_decisions", ["request_id", "step"], unique=True)
    if _postgres():
        role = Settings().tenant_role
        op.execute(f"GRANT INSERT, UPDATE (status) ON approval_requests TO {role}")
        op.execute(f"GRANT INSERT ON approval_decisions TO {role}")
        op.execute(f"GRANT USAGE ON SEQUENCE approval_requests_id_seq TO {role}")
        op.execute(f"GRANT USAGE ON SEQUENCE approval_decisions_id_seq TO {role}")


def _refuse_repeated_steps() -> None:
    rows = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT request_id, step, COUNT(*) FROM approval_decisions GROUP BY request_id, step "
                "HAVING COUNT(*) > 1 ORDER BY request_id, step"
            )
        )
        .all()
    )
    if rows:
        listed = "; ".join(f"request_id={r} step={s}: {n} decisions" for r, s, n in rows[:LISTED])
        more = f"; and {len(rows) - LISTED} more" if len(rows) > LISTED else ""
        raise CommandError(
            "Migration 0014 refused: a step of a request has several decisions, and from this revision a "
            "step has one. Nothing was changed; keep one decision of each, then run `outlay db upgrade` "
            f"again. {len(rows)} step(s): {listed}{more}"
        )


def downgrade() -> None:
    if _postgres():
        role = Settings().tenant_role
        op.execute(f"REVOKE USAGE ON SEQUENCE approval_decisions_id_seq FROM {role}")
        op.execute(f"REVOKE USAGE ON SEQUENCE approval_requests_id_seq FROM {role}")
        op.execute(f"REVOKE INSERT ON approval_decisions FROM {role}")
        op.execute(f"REVOKE INSERT, UPDATE ON approval_requests FROM {role}")
    op.drop_index(STEP_INDEX, table_name="approval_decisions")
    _drop_column("approval_decisions", "comment")
    op.drop_index(KEY_INDEX, table_name="approval_requests")
    for column in ("idempotency_key", "filed_on_behalf", "filed_by"):
        _drop_column("approval_requests", column)


def _drop_column(table: str, column: str) -> None:
    # Not Alembic's batch mode on SQLite: it copies the table and drops the old one, which would cascade.
    if _postgres():
        op.drop_column(table, column)
    else:  # SQLite >= 3.35 drops a column in place
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
