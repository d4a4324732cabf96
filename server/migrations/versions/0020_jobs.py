"""the job queue: jobs and forecast_snapshots, and on PostgreSQL procrastinate's own schema

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07

`jobs` is what callers see of long work (docs/jobs.md); `forecast_snapshots` what the nightly forecast
job stores. Both are tenant tables under row security like the rest (migration 0005); the tool-call role
only reads them (jobs are written by the worker and by the enqueueing path, outside any tenant).

PostgreSQL: procrastinate's tables, types and functions (its schema.sql, version 3.10) come through
here, not through `procrastinate schema --apply`, so that `outlay db upgrade` is the one way a
database gets its schema. A procrastinate upgrade that changes its schema adds a migration that runs
the upgrade's SQL files (procrastinate/sql/migrations). SQLite has no queue: jobs run inline there.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.resources import files

import sqlalchemy as sa
from alembic import op
from sqlalchemy.util import await_only

from server.settings import Settings

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
POLICY = "tenant_isolation"
TABLES = ("jobs", "forecast_snapshots")


def upgrade() -> None:
    _create_jobs()
    _create_forecast_snapshots()
    if op.get_bind().dialect.name != "postgresql":
        return
    role = Settings().tenant_role
    setting = "NULLIF(current_setting('outlay.company_id', true), '')"
    for table in TABLES:
        op.execute(f"GRANT SELECT ON {table} TO {role}")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"""
            CREATE POLICY {POLICY} ON {table}
            USING (company_id = {setting}::bigint OR ({setting} IS NULL AND current_user <> '{role}'))""")
    _run_script(files("procrastinate.sql").joinpath("schema.sql").read_text(encoding="utf-8"))


def _run_script(script: str) -> None:
    """A script of many statements, which asyncpg runs only outside a prepared statement: through the
    driver's own connection, in the migration's transaction."""
    driver = op.get_bind().connection.driver_connection
    assert driver is not None
    await_only(driver.execute(script))


def _create_jobs() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", ID, nullable=False),
        sa.Column("company_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("arguments", sa.JSON(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("progress_done", sa.Integer(), nullable=False),
        sa.Column("progress_total", sa.Integer(), nullable=True),
        sa.Column("progress_message", sa.String(length=200), nullable=True),
        sa.Column("checkpoint", sa.JSON(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_jobs_company_id_companies"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint(
            "company_id", "kind", "idempotency_key", name=op.f("uq_jobs_company_id_kind_idempotency_key")
        ),
    )
    op.create_index(op.f("ix_jobs_company_id"), "jobs", ["company_id"])


def _create_forecast_snapshots() -> None:
    op.create_table(
        "forecast_snapshots",
        sa.Column("id", ID, nullable=False),
        sa.Column("company_id", ID, nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_forecast_snapshots_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forecast_snapshots")),
    )
    op.create_index(op.f("ix_forecast_snapshots_company_id"), "forecast_snapshots", ["company_id"])
    op.create_index(op.f("ix_forecast_snapshots_created_at"), "forecast_snapshots", ["created_at"])


_DROP_PROCRASTINATE = """
    DO $$ DECLARE found record; BEGIN
        DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
            procrastinate_workers CASCADE;
        FOR found IN SELECT oid::regprocedure AS signature FROM pg_proc WHERE proname LIKE 'procrastinate%'
        LOOP EXECUTE 'DROP FUNCTION ' || found.signature || ' CASCADE'; END LOOP;
        DROP TYPE IF EXISTS procrastinate_job_event_type, procrastinate_job_status,
            procrastinate_job_to_defer_v1 CASCADE;
    END $$"""


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_DROP_PROCRASTINATE)
    op.drop_table("forecast_snapshots")
    op.drop_table("jobs")
