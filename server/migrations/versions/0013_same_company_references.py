"""references within one company: a row may name only its own company's rows

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08

Every reference from one tenant table to another was a foreign key on the id alone, and a foreign-key
check does not see row security (PostgreSQL runs it as the table owner): an expense could name another
company's category, team, employee or merchant, and the database took it. From here each such reference
is (company_id, x_id) -> (company_id, id), so the database itself refuses another company's row, on both
backends.

- teams, employees, categories, merchants, expenses and approval_requests, the tables referenced, get a
  unique key (company_id, id): a composite foreign key needs a unique target;
- the 30 references of REFERENCES become composite, under their old names, with their ON DELETE kept:
  the three CASCADEs into expenses (dimensions, corrections, repeat charges) delete by the whole key.
  None of them was SET NULL (the only SET NULL, data_changes.company_id -> companies, is not a reference
  between tenant tables and stays): there is no company_id to keep out of a SET NULL;
- a database that holds a cross-company reference already is refused before anything changes, with the
  table, column and rows of each (the first 20 of each reference): such a row is a bug to look into, and
  the migration will neither guess which company the row belongs to nor drop it.

SQLite cannot alter a constraint: each table is rebuilt once (Alembic's batch mode), inside one explicit
transaction, with foreign keys off (else dropping a table's old copy would delete the rows that reference
it, by cascade), and `PRAGMA foreign_key_check` must come back empty before it commits; then foreign
keys are on again, for the migrations after it. (The revision is stamped in a transaction of its own,
just after.) PostgreSQL alters the tables in place: row security, grants and data untouched.

The downgrade puts the single-column references back and drops the unique keys.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations
from alembic.util import CommandError

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables referenced, each with a unique (company_id, id).
REFERENCED = ("teams", "employees", "categories", "merchants", "expenses", "approval_requests")
# Each table's references to another tenant table: (column, table referenced, ON DELETE).
REFERENCES: dict[str, list[tuple[str, str, str | None]]] = {
    "teams": [("parent_id", "teams", None), ("manager_id", "employees", None)],
    "employees": [
        ("team_id", "teams", None),
        ("manager_id", "employees", None),
        ("delegate_id", "employees", None),
    ],
    "categories": [("parent_id", "categories", None)],
    "merchants": [],
    "category_rules": [("category_id", "categories", None)],
    "expenses": [
        ("merchant_id", "merchants", None),
        ("employee_id", "employees", None),
        ("team_id", "teams", None),
        ("category_id", "categories", None),
    ],
    "expense_dimensions": [("expense_id", "expenses", "CASCADE")],
    "category_corrections": [
        ("expense_id", "expenses", "CASCADE"),
        ("category_id", "categories", None),
        ("previous_category_id", "categories", None),
    ],
    "team_daily_spend": [("team_id", "teams", None)],
    "repeat_charges": [
        ("expense_id", "expenses", "CASCADE"),
        ("team_id", "teams", None),
        ("merchant_id", "merchants", None),
    ],
    "spend_monthly": [("team_id", "teams", None), ("category_id", "categories", None)],
    "budgets": [("team_id", "teams", None), ("category_id", "categories", None)],
    "approval_requests": [
        ("requester_id", "employees", None),
        ("team_id", "teams", None),
        ("category_id", "categories", None),
        ("expense_id", "expenses", None),
    ],
    "approval_decisions": [
        ("request_id", "approval_requests", None),
        ("approver_id", "employees", None),
        ("on_behalf_of_id", "employees", None),
    ],
}
# How a refused row is named: its primary key (the tables without an id have a composite one).
ROW_KEYS = {
    "team_daily_spend": ("team_id", "spent_on"),
    "repeat_charges": ("expense_id",),
    "expense_dimensions": ("expense_id", "name"),
}
LISTED = 20


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _unique(table: str) -> str:
    return f"uq_{table}_company_id_id"


def upgrade() -> None:
    _refuse_cross_company_references()
    with _sqlite_rebuild():
        if _postgres():  # in place, so every target first: teams and employees reference each other
            for table in REFERENCED:
                op.create_unique_constraint(_unique(table), table, ["company_id", "id"])
        for table, references in REFERENCES.items():
            with op.batch_alter_table(table) as batch:  # SQLite: one rebuild, key and references together
                if table in REFERENCED and not _postgres():
                    batch.create_unique_constraint(_unique(table), ["company_id", "id"])
                for column, target, ondelete in references:
                    _reference(batch, table, column, target, ondelete, composite=True)


def downgrade() -> None:
    with _sqlite_rebuild():
        for table, references in REFERENCES.items():
            with op.batch_alter_table(table) as batch:
                for column, target, ondelete in references:
                    _reference(batch, table, column, target, ondelete, composite=False)
                if table in REFERENCED and not _postgres():
                    batch.drop_constraint(_unique(table), type_="unique")
        if _postgres():  # once nothing references them
            for table in REFERENCED:
                op.drop_constraint(_unique(table), table, type_="unique")


def _reference(
    batch: BatchOperations, table: str, column: str, target: str, ondelete: str | None, *, composite: bool
) -> None:
    name = f"fk_{table}_{column}_{target}"
    batch.drop_constraint(name, type_="foreignkey")
    if composite:
        batch.create_foreign_key(name, target, ["company_id", column], ["company_id", "id"], ondelete=ondelete)
    else:
        batch.create_foreign_key(name, target, [column], ["id"], ondelete=ondelete)


def _refuse_cross_company_references() -> None:
    found = [
        problem
        for table, references in REFERENCES.items()
        for column, target, _ in references
        if (problem := _cross_company(table, column, target))
    ]
    if found:
        raise CommandError(
            "Migration 0013 refused: these rows reference a row of another company, which the database "
            "will refuse from this revision on. Nothing was changed; correct or delete them, then run "
            "`outlay db upgrade` again.\n" + "\n".join(found)
        )


def _cross_company(table: str, column: str, target: str) -> str | None:
    """What to report of `table.column` naming rows of another company in `target`; None when none do."""
    key = ROW_KEYS.get(table, ("id",))
    rows = op.get_bind().execute(
        sa.text(
            f"SELECT {', '.join(f'r.{c}' for c in key)}, r.company_id, t.id, t.company_id "
            f"FROM {table} AS r JOIN {target} AS t ON t.id = r.{column} "
            f"WHERE t.company_id <> r.company_id ORDER BY {', '.join(f'r.{c}' for c in key)}"
        )
    ).all()
    if not rows:
        return None
    listed = "; ".join(
        f"{', '.join(f'{c}={v}' for c, v in zip(key, row[:-3], strict=True))} of company {row[-3]} "
        f"-> id={row[-2]} of company {row[-1]}"
        for row in rows[:LISTED]
    )
    more = f"; and {len(rows) - LISTED} more" if len(rows) > LISTED else ""
    return f"- {table}.{column} -> {target}: {len(rows)} row(s): {listed}{more}"


@contextmanager
def _sqlite_rebuild() -> Iterator[None]:
    """SQLite: the tables rebuilt with foreign keys off, in one transaction that commits only when every
    reference still holds; foreign keys on again after it. The pragma does nothing inside a transaction,
    hence Alembic's autocommit blocks, which commit what came before them."""
    if _postgres():
        yield
        return
    context, bind = op.get_context(), op.get_bind()
    with context.autocommit_block():
        bind.exec_driver_sql("PRAGMA foreign_keys=OFF")
    # The driver would begin only at the first INSERT, after the first table's copy was created.
    bind.exec_driver_sql("BEGIN")
    yield
    broken = bind.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        rows = "; ".join(f"{table} rowid {rowid} -> {parent}" for table, rowid, parent, _ in broken[:LISTED])
        raise CommandError(
            f"Migration 0013 refused: {len(broken)} row(s) reference rows that do not exist; nothing was "
            f"changed: {rows}"
        )
    with context.autocommit_block():  # commits the tables; the revision is stamped just after
        bind.exec_driver_sql("PRAGMA foreign_keys=ON")
