"""categorize_expense and categorize_expenses through a real MCP client, on a trained company."""

from __future__ import annotations

from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no stubs ship with it; it comes with mcp
import pytest
from mcp import Client
from mcp.client.session import ClientRequestContext
from mcp_types import ElicitRequestParams, ElicitResult, ToolAnnotations

from tests.categorize.conftest import server_for
from tests.world import call_error, call_ok, connect, raw

pytestmark = pytest.mark.anyio

UNCATEGORIZED = "SELECT COUNT(*) FROM expenses WHERE category_id IS NULL"


async def one_ref(url: str, where: str) -> str:
    [(ref,)] = await raw(url, f"SELECT ref FROM expenses WHERE {where} ORDER BY ref LIMIT 1")
    return str(ref)


async def test_the_tools_say_what_they_do_and_what_they_may_write(acme_books: Client) -> None:
    tools = {t.name: t for t in (await acme_books.list_tools()).tools}

    assert tools["categorize_expense"].annotations == ToolAnnotations(
        read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
    )
    assert tools["categorize_expenses"].annotations == ToolAnnotations(
        read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False
    )
    batch = tools["categorize_expenses"].input_schema["properties"]
    assert "confirmation" not in batch
    assert "ctx" not in batch
    assert all(spec.get("description") for spec in batch.values())


async def test_an_expense_gets_the_companys_own_category_with_its_provenance(
    acme_books: Client, trained_url: str
) -> None:
    ref = await one_ref(trained_url, "descriptor LIKE 'UBER%' AND category_source = 'human'")

    found = await call_ok(acme_books, "categorize_expense", {"expense_id": ref})

    schema = {t.name: t.output_schema for t in (await acme_books.list_tools()).tools}["categorize_expense"]
    jsonschema.validate(found, schema)
    assert found["expense_id"] == ref
    assert found["category"]["code"] == "TRAVEL-GROUND"
    assert found["source"] in ("history", "model")
    assert found["current"] == {
        "code": "TRAVEL-GROUND",
        "name": "Taxis and local transport",
        "source": "human",
    }
    assert (found["model_version"], found["thresholds"]) == (1, {"review": 0.8, "auto_apply": 0.95})
    assert found["needs_review"] is (found["category"]["confidence"] < 0.8)


async def test_raw_details_of_a_charge_not_in_the_books(acme_books: Client) -> None:
    found = await call_ok(
        acme_books,
        "categorize_expense",
        {"descriptor": "LUFTHANSA 2209876543", "amount": "412.50", "currency": "USD", "mcc": "3008"},
    )

    assert found["expense_id"] is None
    assert found["current"] is None
    assert found["category"]["code"] == "TRAVEL-AIR"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({}, "pass expense_id, or the raw details of a charge with at least descriptor"),
        ({"expense_id": "EXP-000001", "descriptor": "UBER"}, "pass either expense_id or descriptor"),
        ({"expense_id": "EXP-999999"}, "no expense with id 'EXP-999999'; search_expenses lists ids"),
        (
            {"descriptor": "UBER", "amount": "12.345", "currency": "EUR"},
            "amount: 12.345 has more decimals than EUR allows",
        ),
        ({"descriptor": "UBER", "team": "Nowhere"}, "no team named 'Nowhere'"),
    ],
)
async def test_what_cannot_be_categorized_is_explained(
    acme_books: Client, arguments: dict[str, Any], message: str
) -> None:
    assert message in await call_error(acme_books, "categorize_expense", arguments)


async def test_a_dry_run_reports_what_would_be_written_and_writes_nothing(
    acme_books: Client, trained_url: str
) -> None:
    before = await raw(trained_url, UNCATEGORIZED)

    found = await call_ok(acme_books, "categorize_expenses", {"apply": True, "dry_run": True, "limit": 1000})

    assert found["dry_run"] is True
    assert found["applied"] == 0
    assert found["counts"]["would_apply"] > 0
    assert sum(found["counts"].values()) == len(found["items"]) == found["total_matched"] == before[0][0]
    assert await raw(trained_url, UNCATEGORIZED) == before


async def test_a_backlog_is_paged_with_a_cursor(acme_books: Client) -> None:
    first = await call_ok(acme_books, "categorize_expenses", {"limit": 5})
    second = await call_ok(acme_books, "categorize_expenses", {"limit": 5, "cursor": first["next_cursor"]})

    assert len(first["items"]) == len(second["items"]) == 5
    assert not {i["expense_id"] for i in first["items"]} & {i["expense_id"] for i in second["items"]}
    assert "pass either expense_id" not in str(second)


@pytest.fixture
async def fresh_books(fresh_url: str, anyio_backend: str) -> Any:
    async with connect(server_for(fresh_url), "auto") as client:
        yield client


async def test_apply_writes_confident_answers_once_with_an_audit_row_each(
    fresh_books: Client, fresh_url: str
) -> None:
    first = await call_ok(fresh_books, "categorize_expenses", {"apply": True, "limit": 1000})
    again = await call_ok(fresh_books, "categorize_expenses", {"apply": True, "limit": 1000})

    applied = [i for i in first["items"] if i["outcome"] == "applied"]
    assert first["applied"] == len(applied) > 0
    assert all(i["category"]["confidence"] >= 0.95 for i in applied)
    assert all(i["source"] != "llm" for i in applied)
    assert again["applied"] == 0
    assert "applied" not in again["counts"]
    written = await raw(
        fresh_url,
        "SELECT COUNT(*) FROM expenses "
        "WHERE category_source IN ('model', 'rule') AND category_confidence >= 0.95",
    )
    audit = await raw(fresh_url, "SELECT COUNT(*) FROM data_changes WHERE action = 'categorize'")
    assert written == audit == [(len(applied),)]


@pytest.mark.parametrize("apply", [True, False])
async def test_an_empty_list_of_ids_is_refused_and_writes_nothing(
    fresh_books: Client, fresh_url: str, apply: bool
) -> None:
    before = await raw(fresh_url, UNCATEGORIZED)

    message = await call_error(fresh_books, "categorize_expenses", {"expense_ids": [], "apply": apply})

    assert message.endswith(
        "expense_ids: an empty list selects nothing; give ids, or omit expense_ids to work on the "
        "backlog of a filter"
    )
    assert await raw(fresh_url, UNCATEGORIZED) == before
    assert await raw(fresh_url, "SELECT COUNT(*) FROM data_changes WHERE action = 'categorize'") == [(0,)]


async def test_a_category_someone_set_is_never_changed(fresh_books: Client, fresh_url: str) -> None:
    ref = await one_ref(fresh_url, "category_source = 'human'")
    before = await raw(fresh_url, f"SELECT category_id, category_source FROM expenses WHERE ref = '{ref}'")

    found = await call_ok(fresh_books, "categorize_expenses", {"expense_ids": [ref], "apply": True})

    assert [i["outcome"] for i in found["items"]] == ["already_categorized"]
    assert found["applied"] == 0
    assert (
        await raw(fresh_url, f"SELECT category_id, category_source FROM expenses WHERE ref = '{ref}'")
        == before
    )


async def answer(accept: bool, seen: list[str]) -> Any:
    async def callback(_: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        seen.append(params.message)
        if accept:
            return ElicitResult(action="accept", content={"confirm": True})
        return ElicitResult(action="decline")

    return callback


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_the_user_is_asked_before_anything_is_written(fresh_url: str, mode: str) -> None:
    asked: list[str] = []
    async with Client(
        server_for(fresh_url), mode=mode, elicitation_callback=await answer(False, asked)
    ) as client:
        declined = await client.call_tool("categorize_expenses", {"apply": True, "limit": 50})
    async with Client(
        server_for(fresh_url), mode=mode, elicitation_callback=await answer(True, asked)
    ) as client:
        accepted = await client.call_tool("categorize_expenses", {"apply": True, "limit": 50})

    assert len(asked) == 2
    assert "never changed" in asked[0]
    assert declined.structured_content is not None
    assert declined.structured_content["applied"] == 0
    assert "Nothing was written: the user did not confirm." in declined.content[0].text  # type: ignore[union-attr]
    assert accepted.structured_content is not None
    assert accepted.structured_content["applied"] > 0


async def test_progress_is_reported_while_a_batch_runs(acme_books: Client) -> None:
    reported: list[tuple[float, float | None, str | None]] = []

    async def progress(progress: float, total: float | None, message: str | None) -> None:
        reported.append((progress, total, message))

    result = await acme_books.call_tool("categorize_expenses", {"limit": 20}, progress_callback=progress)

    assert not result.is_error
    assert reported[0] == (0, 20, "categorizing 20 expenses")


async def test_another_company_cannot_categorize_these_expenses(globex: Client) -> None:
    # EXP-000050 is one of acme's in the shared two-company world; globex has no such expense.
    assert "no expense with id 'EXP-000050'" in await call_error(
        globex, "categorize_expense", {"expense_id": "EXP-000050"}
    )
    assert "'EXP-000050'" in await call_error(globex, "categorize_expenses", {"expense_ids": ["EXP-000050"]})
    own = await call_ok(globex, "categorize_expenses", {"expense_ids": ["EXP-000001", "EXP-000002"]})
    assert {
        g["code"]
        for i in own["items"]
        for g in ([i["category"]] if i["category"] else []) + i["alternatives"]
    } <= {
        "TRAVEL",
        "HARDWARE",
    }
