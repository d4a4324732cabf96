"""tenant isolation in depth (PostgreSQL row-level security, the tool-call role) and the audit_events table

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28

PostgreSQL: every tenant table gets a policy keyed on the transaction setting `outlay.company_id`,
forced on the table owner too. A transaction that set it sees that company's rows only; the tool-call
role (OUTLAY_TENANT_ROLE, created here if missing) sees nothing without it; any other role without it
(imports, training, the CLI: admin paths) sees everything. Superusers bypass row security altogether,
which is why tool calls switch to the tool-call role (server/db/tenancy.py). SQLite has no row security:
there the query filters are the only line.

audit_events is append-only on both backends: a trigger refuses UPDATE and DELETE (and TRUNCATE).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from server.settings import Settings

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
POLICY = "tenant_isolation"
# Each tenant table and the column that names its company.
TENANT_TABLES = {
    "companies": "id",
    "teams": "company_id",
    "employees": "company_id",
    "categories": "company_id",
    "category_rules": "company_id",
    "merchants": "company_id",
    "expenses": "company_id",
    "team_daily_spend": "company_id",
    "repeat_charges": "company_id",
    "budgets": "company_id",
    "fx_rates": "company_id",
    "approval_policies": "company_id",
    "approval_requests": "company_id",
    "approval_decisions": "company_id",
    "audit_log": "company_id",
    "model_versions": "company_id",
}
# What a tool call writes: categorize_expenses sets an expense's category and notes it in audit_log.
EXPENSE_COLUMNS_WRITTEN = "category_id, category_source, category_confidence"
APPEND_ONLY_MESSAGE = "audit_events is append-only"


def upgrade() -> None:
    _create_audit_events()
    if op.get_bind().dialect.name == "postgresql":
        _postgres_tenancy(Settings().tenant_role)
        _postgres_append_only()
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{action.lower()} BEFORE {action} ON audit_events "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
            )


def _create_audit_events() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", ID, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        # The slug, not a key: events outlive a company's replacement, and nothing may cascade into them.
        sa.Column("company", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("arguments_sha256", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("trace_id", sa.String(length=32), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index("ix_audit_events_company_at", "audit_events", ["company", "at"])
    op.create_index("ix_audit_events_at", "audit_events", ["at"])


def _postgres_tenancy(role: str) -> None:
    # Roles are cluster-wide: another database (or a concurrent migration) may have created it already.
    op.execute(f"""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
                CREATE ROLE {role} NOLOGIN;
            END IF;
        EXCEPTION WHEN duplicate_object THEN NULL;
        END $$""")
    # Whoever runs the server must be able to SET ROLE to it (superusers always can).
    op.execute(f"""
        DO $$ BEGIN
            IF NOT pg_has_role(current_user, '{role}', 'MEMBER') THEN
                EXECUTE format('GRANT {role} TO %I', current_user);
            END IF;
            EXECUTE format('GRANT USAGE ON SCHEMA %I TO {role}', current_schema());
        END $$""")
    setting = "NULLIF(current_setting('outlay.company_id', true), '')"
    for table, column in TENANT_TABLES.items():
        op.execute(f"GRANT SELECT ON {table} TO {role}")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"""
            CREATE POLICY {POLICY} ON {table}
            USING ({column} = {setting}::bigint OR ({setting} IS NULL AND current_user <> '{role}'))""")
    op.execute(f"GRANT UPDATE ({EXPENSE_COLUMNS_WRITTEN}) ON expenses TO {role}")
    op.execute(f"GRANT INSERT ON audit_log TO {role}")
    op.execute(f"GRANT USAGE ON SEQUENCE audit_log_id_seq TO {role}")


def _postgres_append_only() -> None:
    op.execute(f"""
        CREATE FUNCTION outlay_audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
        END $$""")
    op.execute("""
        CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION outlay_audit_events_append_only()""")
    op.execute("""
        CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
        FOR EACH STATEMENT EXECUTE FUNCTION outlay_audit_events_append_only()""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        role = Settings().tenant_role
        for table in TENANT_TABLES:
            op.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
            op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
            op.execute(f"REVOKE ALL ON {table} FROM {role}")
        op.execute(f"REVOKE ALL ON SEQUENCE audit_log_id_seq FROM {role}")
        # The role itself stays: it is cluster-wide, and other databases may use it.
    op.drop_table("audit_events")  # its triggers go with it
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION outlay_audit_events_append_only()")
