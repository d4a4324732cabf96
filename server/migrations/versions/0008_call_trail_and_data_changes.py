"""two audit records, each holding one thing: the trail of calls (audit_events) and the record of data
changes, imports and training (data_changes, formerly audit_log)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

Until now a category written by categorize_expenses was recorded twice: as a change inside the call's
audit_events row (before/after) and as an audit_log row (stage, confidence, model version). From here a
change is written once, as a data_changes row in the transaction that makes it, with the id of the call
that made it (`call_id`, also on the call's audit_events row). The tenant role's grants and
row security follow the renamed table and sequence on PostgreSQL. Every existing record is kept:

- audit_log is renamed data_changes (imports, training, and categorize rows written before);
- each change held by an audit_events row moves to a data_changes row of that call, merged with the
  audit_log row that recorded the same change (its stage and model version join the row's details);
- audit_events loses its `changes` column. audit_events stays append-only: its triggers are lifted only
  while this migration gives the moved calls their call id.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY_MESSAGE = "audit_events is append-only"
EVENTS = sa.table(
    "audit_events",
    sa.column("id", sa.BigInteger),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("subject", sa.String),
    sa.column("company", sa.String),
    sa.column("name", sa.String),
    sa.column("changes", sa.JSON),
    sa.column("call_id", sa.String),
)
CHANGES = sa.table(
    "data_changes",
    sa.column("id", sa.BigInteger),
    sa.column("company_id", sa.BigInteger),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("actor", sa.String),
    sa.column("action", sa.String),
    sa.column("details", sa.JSON),
    sa.column("call_id", sa.String),
)
COMPANIES = sa.table("companies", sa.column("id", sa.BigInteger), sa.column("slug", sa.String))


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.rename_table("audit_log", "data_changes")
    if _postgres():
        op.execute("ALTER SEQUENCE audit_log_id_seq RENAME TO data_changes_id_seq")
        op.execute("ALTER TABLE data_changes RENAME CONSTRAINT pk_audit_log TO pk_data_changes")
        op.execute(
            "ALTER TABLE data_changes RENAME CONSTRAINT fk_audit_log_company_id_companies "
            "TO fk_data_changes_company_id_companies"
        )
    op.add_column("data_changes", sa.Column("call_id", sa.String(length=32), nullable=True))
    op.create_index("ix_data_changes_call_id", "data_changes", ["call_id"])
    op.create_index("ix_data_changes_company_at", "data_changes", ["company_id", "at"])
    op.add_column("audit_events", sa.Column("call_id", sa.String(length=32), nullable=True))
    with _append_only_lifted():
        _move_changes()
    if _postgres():
        op.drop_column("audit_events", "changes")
    else:  # SQLite >= 3.35 drops a column in place (Alembic would copy the table, and lose its triggers)
        op.execute("ALTER TABLE audit_events DROP COLUMN changes")


def _move_changes() -> None:
    bind = op.get_bind()
    companies = {slug: id_ for slug, id_ in bind.execute(sa.select(COMPANIES.c.slug, COMPANIES.c.id))}
    recorded = _recorded_categories(bind)
    events = bind.execute(
        sa.select(EVENTS.c.id, EVENTS.c.at, EVENTS.c.subject, EVENTS.c.company, EVENTS.c.name, EVENTS.c.changes)
        .where(EVENTS.c.changes.is_not(None))
        .order_by(EVENTS.c.id)
    ).all()
    merged: list[int] = []
    for event_id, at, subject, company, name, changes in events:
        call_id = uuid.uuid4().hex
        bind.execute(sa.update(EVENTS).where(EVENTS.c.id == event_id).values(call_id=call_id))
        company_id = companies.get(company)
        rows = []
        for change in changes or []:
            details: dict[str, Any] = dict(change)
            earlier = recorded.pop((company_id, details.get("key")), None)
            if earlier is not None:  # the same change, recorded a second time by categorize
                merged.append(earlier[0])
                details.update({k: earlier[1].get(k) for k in ("stage", "model_version")})
            action = "categorize" if name == "categorize_expenses" else name
            rows.append(
                {"company_id": company_id, "at": at, "actor": subject, "action": action, "details": details}
            )
        if rows:
            bind.execute(sa.insert(CHANGES), [{**row, "call_id": call_id} for row in rows])
    for first in range(0, len(merged), 1000):
        bind.execute(sa.delete(CHANGES).where(CHANGES.c.id.in_(merged[first : first + 1000])))


def _recorded_categories(bind: sa.Connection) -> dict[tuple[int | None, str | None], tuple[int, dict[str, Any]]]:
    """categorize's own rows, by (company, expense): the latest, as an expense is categorized once."""
    rows = bind.execute(
        sa.select(CHANGES.c.id, CHANGES.c.company_id, CHANGES.c.details)
        .where(CHANGES.c.action == "categorize")
        .order_by(CHANGES.c.id)
    ).all()
    return {(company_id, (details or {}).get("expense")): (id_, details or {}) for id_, company_id, details in rows}


class _append_only_lifted:  # noqa: N801 - reads as a `with` phrase
    """The append-only triggers of audit_events off, for this migration's own UPDATEs only."""

    def __enter__(self) -> None:
        if _postgres():
            op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
        else:
            op.execute("DROP TRIGGER audit_events_no_update")

    def __exit__(self, *_: object) -> None:
        if _postgres():
            op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
        else:
            op.execute(
                "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
            )


def downgrade() -> None:
    op.add_column("audit_events", sa.Column("changes", sa.JSON(), nullable=True))
    bind = op.get_bind()
    linked = bind.execute(
        sa.select(CHANGES.c.id, CHANGES.c.call_id, CHANGES.c.details)
        .where(CHANGES.c.call_id.is_not(None))
        .order_by(CHANGES.c.id)
    ).all()
    by_call: dict[str, list[Any]] = {}
    for _, call_id, details in linked:
        by_call.setdefault(call_id, []).append(details)
    with _append_only_lifted():
        for call_id, changes in by_call.items():
            bind.execute(sa.update(EVENTS).where(EVENTS.c.call_id == call_id).values(changes=changes))
    ids = [row[0] for row in linked]
    for first in range(0, len(ids), 1000):
        bind.execute(sa.delete(CHANGES).where(CHANGES.c.id.in_(ids[first : first + 1000])))
    if _postgres():
        op.drop_column("audit_events", "call_id")
    else:
        op.execute("ALTER TABLE audit_events DROP COLUMN call_id")
    op.drop_index("ix_data_changes_company_at", table_name="data_changes")
    op.drop_index("ix_data_changes_call_id", table_name="data_changes")
    if _postgres():
        op.drop_column("data_changes", "call_id")
        op.execute("ALTER TABLE data_changes RENAME CONSTRAINT pk_data_changes TO pk_audit_log")
        op.execute(
            "ALTER TABLE data_changes RENAME CONSTRAINT fk_data_changes_company_id_companies "
            "TO fk_audit_log_company_id_companies"
        )
        op.execute("ALTER SEQUENCE data_changes_id_seq RENAME TO audit_log_id_seq")
    else:
        op.execute("ALTER TABLE data_changes DROP COLUMN call_id")
    op.rename_table("data_changes", "audit_log")
