"""expenses without an employee

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07

A card statement or an expense-report export often names no one: `expenses.employee_id` may be NULL
(the expense then keeps its team, which an import requires). Every total and grouping keeps such
expenses ("No employee" when grouped by employee).

PostgreSQL drops the NOT NULL in place (row security, grants and data untouched). SQLite cannot alter a
column: the table is rebuilt (Alembic's batch mode) with foreign keys off, or dropping the old copy would
delete, by cascade, every dimension, correction and repeat charge of every expense; `PRAGMA
foreign_key_check` must come back empty before it commits. Self-contained: it relies on no other
revision's code, after 0014, which leaves `expenses` as 0013 did.

The downgrade refuses while some expense has no employee (it will not invent one), saying how many.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    _employee_id(nullable=True)


def downgrade() -> None:
    count = op.get_bind().execute(sa.text("SELECT count(*) FROM expenses WHERE employee_id IS NULL")).scalar()
    if count:
        raise CommandError(
            f"Downgrade below 0015 refused: {count} expense(s) have no employee, which the older schema "
            "cannot hold. Nothing was changed; give them an employee or delete them first."
        )
    _employee_id(nullable=False)


def _employee_id(*, nullable: bool) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("expenses", "employee_id", existing_type=ID, nullable=nullable)
        return
    with _sqlite_rebuild(), op.batch_alter_table("expenses", recreate="always") as batch:
        batch.alter_column("employee_id", existing_type=ID, nullable=nullable)


@contextmanager
def _sqlite_rebuild() -> Iterator[None]:
    """The table rebuilt with foreign keys off, in one transaction that commits only when every reference
    still holds; foreign keys on again after it. The pragma does nothing inside a transaction, hence
    Alembic's autocommit blocks, which commit what came before them."""
    context, bind = op.get_context(), op.get_bind()
    with context.autocommit_block():
        bind.exec_driver_sql("PRAGMA foreign_keys=OFF")
    bind.exec_driver_sql("BEGIN")  # the driver would begin only at the first INSERT
    yield
    broken = bind.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise CommandError(f"Migration 0015 refused: {len(broken)} row(s) reference rows that do not exist")
    with context.autocommit_block():  # commits the table; the revision is stamped just after
        bind.exec_driver_sql("PRAGMA foreign_keys=ON")
