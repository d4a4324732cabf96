"""Cold start: `outlay serve --transport stdio` answers tools/list without loading the heavy libraries.

Claude Desktop waits for the first tools/list on every launch; model, migration and charting
libraries each cost a good part of a second to import, so they load on the first call that needs them,
and so do SQLAlchemy with the ORM models (the engine opens at the first call: `server.context.Database`)
and the services and queries of the tools that register from their schemas alone.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters
from sqlalchemy import text

from server.db.engine import create_engine
from server.db.migrate import head_revision as alembic_head
from server.db.readiness import SchemaNotReady, check_serving, head_revision
from server.db.schema import ensure_schema
from tests.transports.conftest import server_env
from tests.world import TOOLS

pytestmark = pytest.mark.anyio

# `outlay serve --transport stdio` as the console script runs it, writing the loaded modules (and the
# cyclic GC's state) on exit.
PROBE = """\
import atexit, gc, json, sys
from pathlib import Path

report = Path(sys.argv[1])
state = lambda: {"modules": sorted(sys.modules), "gc": gc.isenabled(), "frozen": gc.get_freeze_count()}
atexit.register(lambda: report.write_text(json.dumps(state())))
from server.cli import main

sys.exit(main(["serve", "--transport", "stdio"]))
"""
HEAVY = (
    "alembic",
    "anthropic",
    "boto3",
    "botocore",
    "evals",  # the other commands' command lines: `outlay serve` builds its own alone
    "faker",
    "holidays",
    "mako",
    "matplotlib",
    "numpy",
    "opentelemetry.exporter",
    "opentelemetry.sdk",
    "scipy",
    "server.importer.service",
    "sklearn",
    "sqlalchemy",
    "server.db.models",
    "statsforecast",
    # The tools' services and queries: the first call imports them, registration needs only the schemas.
    "tools.approvers.deciding",
    "tools.approvers.filing",
    "tools.approvers.service",
    "tools.expenses.queries",
    "tools.expenses.service",
    "tools.review.service",
)


async def test_stdio_lists_tools_without_heavy_imports(seeded_url: str, tmp_path: Path) -> None:
    report = tmp_path / "modules.json"
    env = server_env(seeded_url, OUTLAY_COMPANY="acme")
    server = StdioServerParameters(command=sys.executable, args=["-c", PROBE, str(report)], env=env)
    async with Client(server) as client:
        tools = (await client.list_tools()).tools

    state = json.loads(report.read_text())
    loaded = state["modules"]
    heavy = [root for root in HEAVY if any(name == root or name.startswith(f"{root}.") for name in loaded)]
    assert len(tools) == len(TOOLS)
    assert heavy == []
    # Start-up ran without the cyclic GC, which is back on, and froze what start-up made.
    assert state["gc"] is True
    assert state["frozen"] > 50_000


def test_head_revision_read_from_the_files_is_alembics() -> None:
    assert head_revision() is not None
    assert head_revision() == alembic_head()


async def test_a_database_behind_the_code_is_refused(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        with pytest.raises(SchemaNotReady, match=r"is at revision 0001, code expects \w+\. Run `outlay db"):
            await ensure_schema(engine)
        # `outlay serve`'s check (the driver's quick answer, else the full one): the same refusal.
        with pytest.raises(SchemaNotReady, match=r"is at revision 0001, code expects \w+\. Run `outlay db"):
            await check_serving(database_url, "outlay_tenant")
    finally:
        await engine.dispose()
