"""No argument, name, id or cursor of one company ever reaches another company's rows."""

from __future__ import annotations

import pytest
from mcp import Client

from server.kit.money import to_minor
from tests.world import GLOBEX_EXPENSES, call_error, call_ok, raw

pytestmark = pytest.mark.anyio


async def refs_of(url: str, slug: str) -> list[str]:
    rows = await raw(
        url,
        "SELECT e.ref FROM expenses e JOIN companies c ON c.id = e.company_id WHERE c.slug = :slug "
        "ORDER BY e.spent_on DESC, e.id DESC",
        slug=slug,
    )
    return [ref for (ref,) in rows]


async def test_each_company_searches_only_its_own_expenses(
    acme: Client, globex: Client, seeded_url: str
) -> None:
    mine = await call_ok(acme, "search_expenses", {"limit": 200})
    theirs = await call_ok(globex, "search_expenses", {"limit": 200})

    assert [item["id"] for item in mine["items"]] == await refs_of(seeded_url, "acme")
    assert [item["id"] for item in theirs["items"]] == await refs_of(seeded_url, "globex")
    assert len(theirs["items"]) == GLOBEX_EXPENSES + 1
    assert {item["amount_company"]["currency"] for item in theirs["items"]} == {"USD"}
    assert not any("GLOBEX" in item["descriptor"] for item in mine["items"])


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"employee": "hank@globex.example"}, "no employee with e-mail or name 'hank@globex.example'"),
        ({"employee": "Hank Scorpio"}, "no employee with e-mail or name 'Hank Scorpio'"),
        ({"category": "Hardware"}, "no category with code or name 'Hardware'"),
        ({"merchant": "globex"}, None),
    ],
)
async def test_names_of_another_company_resolve_to_nothing(
    acme: Client, arguments: dict[str, str], message: str | None
) -> None:
    if message is None:
        assert (await call_ok(acme, "search_expenses", arguments))["items"] == []
    else:
        assert message in await call_error(acme, "search_expenses", arguments)
        assert message in await call_error(acme, "summarize_spend", arguments)


async def test_shared_names_resolve_to_each_companys_own_rows(acme: Client, globex: Client) -> None:
    arguments = {"team": "Marketing", "employee": "Ann Lee", "category": "TRAVEL", "limit": 200}
    mine = await call_ok(acme, "search_expenses", arguments)
    theirs = await call_ok(globex, "search_expenses", arguments)

    assert {item["employee"]["email"] for item in mine["items"]} == {"ann@acme.example"}
    assert {item["employee"]["email"] for item in theirs["items"]} == {"ann@globex.example"}
    assert theirs["filters"]["category"] == {"code": "TRAVEL", "name": "Travel (Globex)"}
    assert theirs["total_matched"] == GLOBEX_EXPENSES // 2


async def test_each_company_summarizes_only_its_own_spend(globex: Client, seeded_url: str) -> None:
    summary = await call_ok(globex, "summarize_spend", {"period": "2026", "group_by": "team"})
    rows = await raw(
        seeded_url,
        "SELECT t.name, SUM(e.amount_company_minor), COUNT(*) FROM expenses e "
        "JOIN teams t ON t.id = e.team_id JOIN companies c ON c.id = e.company_id "
        "WHERE c.slug = 'globex' GROUP BY t.name",
    )

    assert {g["key"]: (to_minor(g["total"], "USD"), g["count"]) for g in summary["groups"]} == {
        name: (int(total), count) for name, total, count in rows
    }
    assert summary["currency"] == "USD"


async def test_a_cursor_of_one_company_is_refused_by_the_other(acme: Client, globex: Client) -> None:
    cursor = (await call_ok(globex, "search_expenses", {"limit": 1}))["next_cursor"]

    assert "this cursor is not valid for these filters" in await call_error(
        acme, "search_expenses", {"limit": 1, "cursor": cursor}
    )


async def test_dimension_values_of_another_company_never_appear(
    acme: Client, globex: Client, seeded_url: str
) -> None:
    """Both companies have a fund dimension, fund GF01, cost center CC-1 and project Apollo."""
    dimension_rows = (
        "SELECT d.value, SUM(e.amount_company_minor), COUNT(*) FROM expenses e "
        "JOIN expense_dimensions d ON d.expense_id = e.id AND d.name = 'fund' "
        "JOIN companies c ON c.id = e.company_id WHERE c.slug = :slug GROUP BY d.value"
    )
    for client, slug, currency in ((acme, "acme", "EUR"), (globex, "globex", "USD")):
        summary = await call_ok(client, "summarize_spend", {"period": "2026", "group_by": "dim:fund"})
        funds = {
            g["key"]: (to_minor(g["total"], currency), g["count"]) for g in summary["groups"] if g["key"]
        }
        assert funds == {
            value: (int(total), count)
            for value, total, count in await raw(seeded_url, dimension_rows, slug=slug)
        }
    shared = {"dimensions": {"fund": "GF01"}, "cost_center": "CC-1", "limit": 200}
    mine = await call_ok(acme, "search_expenses", shared)
    theirs = await call_ok(globex, "search_expenses", {**shared, "project": "Apollo"})

    assert {item["employee"]["email"].split("@")[1] for item in mine["items"]} == {"acme.example"}
    assert {item["employee"]["email"].split("@")[1] for item in theirs["items"]} == {"globex.example"}
    assert mine["items"]
    assert theirs["items"]
    for arguments in ({"dimensions": {"fund": "GX99"}}, {"cost_center": "CC-G"}):
        assert (await call_ok(acme, "search_expenses", arguments))["total_matched"] == 0


async def test_each_company_is_told_only_its_own_dimensions(acme: Client, globex: Client) -> None:
    mine = await call_error(acme, "search_expenses", {"dimensions": {"grant": "G-7"}})
    theirs = await call_error(globex, "summarize_spend", {"group_by": "dim:location"})

    assert mine.endswith("the free ones: fund, location")
    assert theirs.endswith("the free ones: dim:fund, dim:grant")
