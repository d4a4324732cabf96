"""recategorize_expense through a real MCP client: a person's correction is written once (expense,
correction, monthly rollup, record of data changes), the categorizer follows it at once, and what is
refused, declined or a dry run writes nothing."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from mcp import Client

from server.kit.merchants import merchant_key
from tests.categorize.conftest import server_for
from tests.categorize.test_tools import answer
from tests.tools.test_spend_monthly import rollup_drift
from tests.world import build, call_error, call_ok, connect, raw, seed_world

pytestmark = pytest.mark.anyio

REASON = "A team dinner, not a ride"
# Everything a correction writes (audit_events aside: every call, refused or not, is audited).
WRITTEN = [
    "SELECT id, category_id, category_source, category_confidence FROM expenses ORDER BY id",
    "SELECT id, expense_id, category_id FROM category_corrections ORDER BY id",
    "SELECT id, action FROM data_changes ORDER BY id",
    "SELECT team_id, month, category_id, total_minor, expenses FROM spend_monthly ORDER BY id",
]


async def written(url: str) -> list[list[tuple[Any, ...]]]:
    return [await raw(url, sql) for sql in WRITTEN]


async def two_rides(url: str) -> tuple[str, str, str]:
    """Two Uber expenses a person booked as taxis, and the merchant's name."""
    rows = await raw(
        url,
        "SELECT e.ref, m.name FROM expenses e JOIN merchants m ON m.id = e.merchant_id "
        "JOIN categories c ON c.id = e.category_id WHERE e.descriptor LIKE 'UBER%' "
        "AND e.category_source = 'human' AND c.code = 'TRAVEL-GROUND' ORDER BY e.ref LIMIT 2",
    )
    (first, merchant), (second, _) = rows
    return first, second, merchant


def decoded(stored: Any) -> dict[str, Any]:
    # PostgreSQL's driver decodes JSON; SQLite hands back the text.
    return dict(json.loads(stored) if isinstance(stored, str) else stored)


TAXI = {"code": "TRAVEL-GROUND", "name": "Taxis and local transport", "source": "human"}
MEALS = {"code": "MEALS", "name": "Meals", "source": "human"}


async def test_a_correction_is_written_once_and_recorded_with_its_call(fresh_url: str) -> None:
    first, _, merchant = await two_rides(fresh_url)

    async with connect(server_for(fresh_url), "auto") as client:
        changed = await call_ok(
            client, "recategorize_expense", {"expense_id": first, "category": "meals", "reason": REASON}
        )
        again = await call_ok(client, "recategorize_expense", {"expense_id": first, "category": "MEALS"})
        shown = await call_ok(client, "get_expense", {"expense_id": first})
        listed = await call_ok(client, "search_expenses", {"category": "MEALS", "merchant": merchant})

    assert changed == {
        "expense_id": first,
        "before": TAXI,
        "after": MEALS,
        "changed": True,
        "dry_run": False,
        "outcome": "recategorized",
        "message": (
            f"{first} changed from TRAVEL-GROUND (Taxis and local transport, set by a person) to "
            "MEALS (Meals, set by a person); the categorizer takes the correction into account."
        ),
    }
    assert (again["outcome"], again["changed"], again["before"], again["after"]) == (
        "unchanged",
        False,
        MEALS,
        MEALS,
    )
    assert shown["category"] == {**MEALS, "confidence": None}
    assert {i["id"]: i["category"] for i in listed["items"]}[first] == {**MEALS, "confidence": None}
    calls = await raw(
        fresh_url, "SELECT name, outcome, call_id FROM audit_events WHERE kind = 'tool' ORDER BY id"
    )
    assert [(name, outcome) for name, outcome, _ in calls[:2]] == [("recategorize_expense", "ok")] * 2
    recorded = await raw(
        fresh_url, "SELECT call_id, actor, details FROM data_changes WHERE action = 'recategorize'"
    )
    assert [(call_id, actor, decoded(details)) for call_id, actor, details in recorded] == [
        (
            calls[0][2],
            "local",
            {
                "table": "expenses",
                "key": first,
                "before": {
                    "category": "TRAVEL-GROUND",
                    "category_source": "human",
                    "category_confidence": None,
                },
                "after": {"category": "MEALS", "category_source": "human", "category_confidence": None},
                "reason": REASON,
            },
        )
    ]
    assert await raw(
        fresh_url,
        "SELECT e.ref, k.merchant_key, c.code, p.code, k.subject, k.reason FROM category_corrections k "
        "JOIN expenses e ON e.id = k.expense_id JOIN categories c ON c.id = k.category_id "
        "LEFT JOIN categories p ON p.id = k.previous_category_id",
    ) == [(first, merchant_key(merchant), "MEALS", "TRAVEL-GROUND", "local", REASON)]
    assert await rollup_drift(fresh_url) == set()


async def test_the_categorizer_reads_a_correction_at_once(fresh_url: str) -> None:
    first, second, merchant = await two_rides(fresh_url)

    async with connect(server_for(fresh_url), "auto") as client:
        before = await call_ok(client, "categorize_expense", {"expense_id": second})
        await call_ok(client, "recategorize_expense", {"expense_id": first, "category": "MEALS"})
        after = await call_ok(client, "categorize_expense", {"expense_id": second})
        batch = await call_ok(client, "categorize_expenses", {"expense_ids": [second]})

    assert (before["source"], before["category"]["code"]) == ("history", "TRAVEL-GROUND")
    # One person's word against the merchant's long history: the answer holds, and says what it heard
    # (a merchant with less history follows its corrections: tests/categorize/test_pipeline.py).
    assert (after["source"], after["category"]["code"]) == ("history", "TRAVEL-GROUND")
    assert after["reason"].endswith(
        f"; since the model was trained {merchant} was recategorized as MEALS 1 of 1 time, "
        "not enough yet to outweigh its history"
    )
    [item] = batch["items"]
    assert (item["reason"], item["outcome"]) == (after["reason"], "already_categorized")


async def test_refused_declined_and_dry_run_calls_write_nothing(fresh_url: str) -> None:
    first, _, _ = await two_rides(fresh_url)
    unchanged = await written(fresh_url)
    asked: list[str] = []

    async with connect(server_for(fresh_url), "auto") as client:
        dry = await call_ok(
            client, "recategorize_expense", {"expense_id": first, "category": "MEALS", "dry_run": True}
        )
        refusals = [
            await call_error(client, "recategorize_expense", {"expense_id": ref, "category": category})
            for ref, category in [
                ("EXP-999999", "MEALS"),
                (" ", "MEALS"),
                (first, ""),
                (first, "Meels"),
                (first, "TRAVEL-"),
            ]
        ]
    declined = []
    for mode in ("auto", "legacy"):
        async with Client(
            server_for(fresh_url), mode=mode, elicitation_callback=await answer(False, asked)
        ) as client:
            declined.append(
                await client.call_tool("recategorize_expense", {"expense_id": first, "category": "MEALS"})
            )
    nothing_written = await written(fresh_url)
    async with Client(server_for(fresh_url), elicitation_callback=await answer(True, asked)) as client:
        accepted = await client.call_tool("recategorize_expense", {"expense_id": first, "category": "MEALS"})

    assert nothing_written == unchanged
    assert (dry["outcome"], dry["changed"], dry["dry_run"], dry["after"]) == (
        "would_recategorize",
        False,
        True,
        MEALS,
    )
    assert refusals[0].endswith(": no expense with id 'EXP-999999'; search_expenses lists ids")
    assert refusals[1].startswith('expense_id: " " is empty; it is required: The expense to correct')
    assert refusals[2].startswith('category: "" is empty; it is required: The right category')
    assert ": no category with code or name 'Meels'; did you mean " in refusals[3]
    assert "'Meals'" in refusals[3]
    assert ": 'TRAVEL-' matches 4 categories: TRAVEL-AIR (Flights), " in refusals[4]
    assert asked == [f"Set the category of expense {first} to 'MEALS'? " + asked[0].split("? ", 1)[1]] * 3
    for result in declined:
        assert result.structured_content is not None
        assert (result.structured_content["outcome"], result.structured_content["changed"]) == (
            "declined",
            False,
        )
        assert (
            result.content[0]
            .model_dump()["text"]
            .startswith("Nothing was written: the user did not confirm.")
        )
    assert accepted.structured_content is not None
    assert accepted.structured_content["outcome"] == "recategorized"
    assert await written(fresh_url) != unchanged


@pytest.fixture
def world_url(database_url: str) -> str:
    """The two-company world of its own (this test writes): acme and globex share expense ids."""
    asyncio.run(seed_world(database_url))
    return database_url


async def test_another_companys_expenses_and_corrections_stay_out_of_reach(world_url: str) -> None:
    acme_before = await raw(
        world_url,
        "SELECT e.ref, e.category_id, e.category_source FROM expenses e "
        "JOIN companies c ON c.id = e.company_id WHERE c.slug = 'acme' ORDER BY e.ref",
    )

    async with connect(build(world_url, "globex"), "auto") as globex:
        # EXP-000050 is only acme's; globex's EXP-000001 and EXP-000003 are Uber rides booked as travel.
        missing = await call_error(
            globex, "recategorize_expense", {"expense_id": "EXP-000050", "category": "TRAVEL"}
        )
        own = await call_ok(
            globex, "recategorize_expense", {"expense_id": "EXP-000001", "category": "HARDWARE"}
        )
        followed = await call_ok(globex, "categorize_expense", {"expense_id": "EXP-000003"})
    async with connect(build(world_url, "acme"), "auto") as acme:
        acme_ride = await call_ok(
            acme, "categorize_expense", {"descriptor": "UBER *TRIP", "merchant": "Uber"}
        )

    assert missing.endswith(": no expense with id 'EXP-000050'; search_expenses lists ids")
    assert (own["outcome"], own["before"]["name"], own["after"]["name"]) == (
        "recategorized",
        "Travel (Globex)",
        "Hardware",
    )
    # No model here: every correction counts.
    assert (followed["source"], followed["category"]["code"]) == ("correction", "HARDWARE")
    assert acme_ride["source"] != "correction"
    assert (
        await raw(
            world_url,
            "SELECT e.ref, e.category_id, e.category_source FROM expenses e "
            "JOIN companies c ON c.id = e.company_id WHERE c.slug = 'acme' ORDER BY e.ref",
        )
        == acme_before
    )
    assert await rollup_drift(world_url) == set()
