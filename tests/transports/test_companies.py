"""`outlay company list` and `outlay company remove` as a person runs them, on both backends."""

from __future__ import annotations

import asyncio
import os
import pty
import subprocess

import pytest

from server.companies.service import tenant_tables
from tests.transports.conftest import OUTLAY, server_env
from tests.transports.test_cli import run_outlay
from tests.world import ACME_EXPENSES, raw, seed_world


def rows_of(url: str, slug: str) -> dict[str, int]:
    """Rows per tenant table of one company, counted by hand."""

    async def count() -> dict[str, int]:
        counts = {}
        for table in [t.name for t in tenant_tables()]:
            sql = (
                f"SELECT count(*) FROM {table} WHERE company_id = (SELECT id FROM companies WHERE slug = :s)"
            )
            [(found,)] = await raw(url, sql, s=slug)
            counts[table] = found
        return counts

    return asyncio.run(count())


@pytest.fixture
def two_companies(database_url: str) -> str:
    asyncio.run(seed_world(database_url))
    return database_url


def test_list_shows_each_company_with_its_expenses_span_and_model(two_companies: str) -> None:
    result = run_outlay("company", "list", env=server_env(two_companies))

    assert result.returncode == 0, result.stderr
    header, *lines = result.stdout.splitlines()
    assert header.split() == ["slug", "name", "currency", "expenses", "span", "model"]
    spans = asyncio.run(
        raw(
            two_companies,
            "SELECT c.slug, c.currency, count(*), min(e.spent_on), max(e.spent_on) FROM companies AS c"
            " JOIN expenses AS e ON e.company_id = c.id GROUP BY c.slug, c.currency ORDER BY c.slug",
        )
    )
    assert [[*line.split()[:1], *line.split()[-4:]] for line in lines] == [
        [slug, currency, str(count), f"{first}..{last}", "-"] for slug, currency, count, first, last in spans
    ]


def test_remove_deletes_one_company_leaves_the_other_and_is_recorded(two_companies: str) -> None:
    env = server_env(two_companies)
    globex_before = rows_of(two_companies, "globex")

    refused = run_outlay("company", "remove", "acme", env=env)  # no terminal, no --yes
    removed = run_outlay("company", "remove", "acme", "--yes", env=env)

    assert (refused.returncode, removed.returncode) == (2, 0), removed.stderr
    assert "confirm on a terminal, or pass --yes" in refused.stderr
    assert removed.stderr.startswith("Removed company 'acme' (")
    assert f"{ACME_EXPENSES + 1} expenses" in removed.stderr
    assert rows_of(two_companies, "globex") == globex_before
    assert sum(rows_of(two_companies, "acme").values()) == 0
    assert asyncio.run(raw(two_companies, "SELECT slug FROM companies")) == [("globex",)]
    [(actor, details)] = asyncio.run(
        raw(two_companies, "SELECT actor, details FROM data_changes WHERE action = 'remove_company'")
    )
    assert actor == "cli"
    assert f'"expenses": {ACME_EXPENSES + 1}' in str(details).replace("'", '"')


@pytest.mark.parametrize("backend", ["sqlite"])
def test_remove_on_a_terminal_asks_for_the_slug(two_companies: str) -> None:
    def remove(answer: str) -> tuple[int, str]:
        controller, terminal = pty.openpty()
        with subprocess.Popen(
            [OUTLAY, "company", "remove", "globex"],
            env=server_env(two_companies),
            stdin=terminal,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as process:
            os.write(controller, f"{answer}\n".encode())
            _, stderr = process.communicate(timeout=60)
        os.close(controller)
        os.close(terminal)
        return process.returncode, stderr

    kept, kept_says = remove("yes")
    gone, gone_says = remove("globex")

    assert (kept, gone) == (1, 0), gone_says
    assert "Type globex to remove it:" in kept_says
    assert kept_says.rstrip().endswith("Nothing was removed.")
    assert "Removed company 'globex'" in gone_says
    assert asyncio.run(raw(two_companies, "SELECT slug FROM companies")) == [("acme",)]
