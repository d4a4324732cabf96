"""the files of queued imports: job_files

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07

A large `outlay import` with a queue configured is checked in the command, and its files are staged
here (compressed) for `outlay worker`, which may run on another machine (docs/jobs.md). A tenant table
under row security like `jobs` (migration 0020's policy); the tool-call role gets no grant at all: no
tool reads these bytes. The import's transaction deletes its files with the job's success. A file names its job by (company_id,
job_id), the rule of migration 0013 for references between tenant tables: `jobs` gets the unique key
(company_id, id) it needs (SQLite rebuilds the table for it).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from server.settings import Settings

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
POLICY = "tenant_isolation"


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:  # SQLite: a rebuild of the (small) table
        batch.create_unique_constraint(op.f("uq_jobs_company_id_id"), ["company_id", "id"])
    op.create_table(
        "job_files",
        sa.Column("id", ID, nullable=False),
        sa.Column("company_id", ID, nullable=False),
        sa.Column("job_id", ID, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_job_files_company_id_companies"), ondelete="CASCADE"
        ),
        # Of the file's own company's job (migration 0013's rule for references between tenant tables).
        sa.ForeignKeyConstraint(
            ["company_id", "job_id"],
            ["jobs.company_id", "jobs.id"],
            name=op.f("fk_job_files_job_id_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_files")),
        sa.UniqueConstraint("job_id", "name", name=op.f("uq_job_files_job_id_name")),
    )
    op.create_index(op.f("ix_job_files_company_id"), "job_files", ["company_id"])
    if op.get_bind().dialect.name != "postgresql":
        return
    role = Settings().tenant_role
    setting = "NULLIF(current_setting('outlay.company_id', true), '')"
    op.execute("ALTER TABLE job_files ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE job_files FORCE ROW LEVEL SECURITY")
    op.execute(f"""
        CREATE POLICY {POLICY} ON job_files
        USING (company_id = {setting}::bigint OR ({setting} IS NULL AND current_user <> '{role}'))""")


def downgrade() -> None:
    op.drop_table("job_files")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_constraint(op.f("uq_jobs_company_id_id"), type_="unique")
