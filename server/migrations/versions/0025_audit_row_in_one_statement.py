"""a call's audit row in one statement: a function the tool-call role may run, for its own company only

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07

PostgreSQL: `outlay_record_call(...)` writes one `audit_events` row for the company the transaction
entered (the setting `outlay.company_id` row-level security reads) and refuses any other (or none). It
runs as its owner (SECURITY DEFINER), so the tool-call role, which may still neither read nor write the
trail, need not leave its role first: the row of a call that ended well costs one statement instead of
two (`server.audit.trail.AuditedCall.write_in`). It also turns the wait for the WAL flush off for the
rest of a transaction that has changed nothing yet, as the statement it replaces did. EXECUTE is the
tool-call role's only (and the owner's): not PUBLIC's. SQLite has no roles: its row is a plain INSERT.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from server.settings import Settings

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = "outlay_record_call"
ARGUMENTS = (
    "p_at timestamptz, p_subject text, p_company text, p_kind text, p_name text, p_arguments_sha256 text,"
    " p_outcome text, p_latency_ms double precision, p_trace_id text, p_call_id text"
)
SIGNATURE = (
    f"{FUNCTION}(timestamptz, text, text, text, text, text, text, double precision, text, text)"
)
REFUSED = "an audit row for another company than the one this transaction entered"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    schema = bind.exec_driver_sql("SELECT current_schema()").scalar_one()
    # search_path pinned (pg_temp last): a definer function must not resolve names the caller could shadow.
    op.execute(f"""
        CREATE FUNCTION {FUNCTION}({ARGUMENTS}) RETURNS void
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, "{schema}", pg_temp AS $$
        DECLARE
            entered bigint := NULLIF(current_setting('outlay.company_id', true), '')::bigint;
        BEGIN
            IF entered IS NULL OR NOT EXISTS (
                SELECT FROM companies AS c WHERE c.id = entered AND c.slug = p_company
            ) THEN
                RAISE EXCEPTION '{REFUSED}' USING ERRCODE = 'insufficient_privilege';
            END IF;
            IF pg_current_xact_id_if_assigned() IS NULL THEN  -- nothing changed: see operations.md
                PERFORM set_config('synchronous_commit', 'off', true);
            END IF;
            INSERT INTO audit_events (at, subject, company, kind, name, arguments_sha256, outcome,
                                      latency_ms, trace_id, call_id)
            VALUES (p_at, p_subject, p_company, p_kind, p_name, p_arguments_sha256, p_outcome,
                    p_latency_ms, p_trace_id, p_call_id);
        END $$""")
    op.execute(f"REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {SIGNATURE} TO {Settings().tenant_role}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION {SIGNATURE}")
