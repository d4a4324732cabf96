"""Migration 0014 adds who filed a request, its idempotency key, a decision's comment and one decision per
step (refusing a database that holds two), grants the tool-call role what filing and deciding write;
its downgrade takes all of it back and keeps the rows."""

from __future__ import annotations

import pytest
from alembic.util import CommandError
from sqlalchemy.engine import Inspector

from server.settings import Settings
from tests.world import execute, migrate, raw, schema

pytestmark = pytest.mark.anyio

SECOND_DECISION = (
    "INSERT INTO approval_decisions (company_id, request_id, step, approver_id, decision, decided_at) "
    "SELECT r.company_id, r.id, 1, e.id, 'approved', r.submitted_at FROM approval_requests r "
    "JOIN employees e ON e.company_id = r.company_id AND e.email = 'cfo@nw.test' WHERE r.ref = 'R-4'"
)
ROLE = Settings().tenant_role
PRIVILEGES = (
    f"SELECT has_table_privilege('{ROLE}', 'approval_requests', 'INSERT'), "
    f"has_column_privilege('{ROLE}', 'approval_requests', 'status', 'UPDATE'), "
    f"has_column_privilege('{ROLE}', 'approval_requests', 'amount_minor', 'UPDATE'), "
    f"has_table_privilege('{ROLE}', 'approval_decisions', 'INSERT'), "
    f"has_sequence_privilege('{ROLE}', 'approval_decisions_id_seq', 'USAGE')"
)


def _shape(inspector: Inspector) -> tuple[set[str], set[str], set[str]]:
    requests = {c["name"] for c in inspector.get_columns("approval_requests")}
    decisions = {c["name"] for c in inspector.get_columns("approval_decisions")}
    unique = {
        str(i["name"])
        for table in ("approval_requests", "approval_decisions")
        for i in inspector.get_indexes(table)
        if i["unique"]
    }
    return requests, decisions, unique


NEW_REQUEST_COLUMNS = {"filed_by", "filed_on_behalf", "idempotency_key"}
NEW_INDEXES = {"uq_approval_requests_company_idempotency_key", "uq_approval_decisions_request_step"}


async def test_up_refusing_two_decisions_of_a_step_then_down(nw: str) -> None:
    postgres = nw.startswith("postgresql")
    await migrate(nw, "0013", down=True)
    try:
        requests, decisions, unique = await schema(nw, _shape)
        assert (requests & NEW_REQUEST_COLUMNS, "comment" in decisions, unique & NEW_INDEXES) == (
            set(),
            False,
            set(),
        )
        await execute(nw, SECOND_DECISION)

        with pytest.raises(
            CommandError, match=r"Migration 0014 refused: .* 1 step\(s\): request_id=\d+ step=1: 2"
        ):
            await migrate(nw, "head")
        await execute(
            nw, "DELETE FROM approval_decisions WHERE id = (SELECT MAX(id) FROM approval_decisions)"
        )
        await migrate(nw, "head")

        requests, decisions, unique = await schema(nw, _shape)
        assert (requests >= NEW_REQUEST_COLUMNS, "comment" in decisions, unique >= NEW_INDEXES) == (
            True,
            True,
            True,
        )
        assert await raw(
            nw, "SELECT ref, filed_by, filed_on_behalf, idempotency_key FROM approval_requests ORDER BY ref"
        ) == [(f"R-{n}", None, False, None) for n in range(1, 5)]
        if postgres:
            assert await raw(nw, PRIVILEGES) == [(True, True, False, True, True)]

        await migrate(nw, "0013", down=True)
        requests, decisions, unique = await schema(nw, _shape)
        assert (requests & NEW_REQUEST_COLUMNS, "comment" in decisions, unique & NEW_INDEXES) == (
            set(),
            False,
            set(),
        )
        assert await raw(nw, "SELECT COUNT(*) FROM approval_decisions") == [(9,)]
        if postgres:
            assert await raw(nw, PRIVILEGES.replace("'amount_minor'", "'status'")) == [(False,) * 5]
    finally:
        await migrate(nw, "head")
