"""expense_policy.json in an import folder (optional, versioned, every problem as `file:0: json.path:
problem`) and the expense fields review_expenses reads: `card`, `receipt_id` and `country` of
expenses.csv, through an import, an append and a mapping."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from server.db.engine import create_session_factory
from server.importer import ImportFailed, import_company, import_export
from server.importer.preview import expense_line
from tests.importer import edits, ledgers
from tests.importer.snapshot import snapshot
from tests.world import raw

pytestmark = pytest.mark.anyio

P = "expense_policy.json"
STATEMENT = Path(__file__).parent / "fixtures" / "statement" / "statement.csv"
KINDS = "receipt_required, cap, blocked, weekend_spend, keywords, just_below_threshold"
POLICY: dict[str, Any] = {
    "currency": "USD",
    "rules": [
        {"id": "receipts", "kind": "receipt_required", "above": "25"},
        {
            "id": "meals-cap",
            "kind": "cap",
            "per": "day",
            "amount": "75",
            "countries": {"US": "90"},
            "categories": ["MEALS"],
        },
        {"id": "no-cash", "kind": "blocked", "mccs": ["6011"], "merchants": ["casino"]},
        {"id": "weekends", "kind": "weekend_spend", "categories": ["SOFTWARE"]},
        {"id": "alcohol", "kind": "keywords", "keywords": ["beer", "wine"], "severity": "low"},
        {"id": "splitting", "kind": "just_below_threshold", "thresholds": ["500"]},
    ],
    "patterns": {"duplicates": {"window_days": 5}, "split_purchases": {"card_limit": "1000"}},
}
CARDS = edits.add_columns(
    "expenses.csv",
    {
        "card": {"E-001": "**** 4242", "E-004": "**** 4242"},
        "receipt_id": {"E-001": "RCPT-1", "E-004": "RCPT-1"},
        "country": {"E-001": "de", "E-004": "US"},
    },
)
WITH_RATE = edits.write("fx_rates.csv", "currency,rate,valid_from\nUSD,0.9150,\n")


def policy(document: dict[str, Any]) -> edits.Edit:
    return edits.write(P, json.dumps(document))


def with_rule(**rule: Any) -> dict[str, Any]:
    return {"rules": [{"id": "r", **rule}]}


async def problems_of(engine: AsyncEngine, folder: Path) -> list[str]:
    with pytest.raises(ImportFailed) as failed:
        await import_company(create_session_factory(engine), folder)
    return [str(problem) for problem in failed.value.problems]


async def test_a_policy_is_stored_as_version_1_and_a_folder_without_one_stores_none(
    engine: AsyncEngine, database_url: str, folder: Path
) -> None:
    sessions = create_session_factory(engine)
    await import_company(sessions, folder)
    assert await raw(database_url, "SELECT count(*) FROM expense_policies") == [(0,)]
    WITH_RATE(folder)
    policy(POLICY)(folder)

    await import_company(sessions, folder, replace=True)

    [(version, document)] = await raw(database_url, "SELECT version, document FROM expense_policies")
    stored = json.loads(document) if isinstance(document, str) else document
    assert (version, stored["currency"], [rule["id"] for rule in stored["rules"]]) == (
        1, "USD", ["receipts", "meals-cap", "no-cash", "weekends", "alcohol", "splitting"]
    )  # fmt: skip
    assert stored["patterns"]["duplicates"] == {"enabled": True, "window_days": 5}


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (
            with_rule(kind="capp", amount="10"),
            f"rules[0].kind: unknown kind 'capp'; did you mean 'cap'? the kinds are: {KINDS}",
        ),
        (with_rule(per="day", amount="10"), f"rules[0].kind: required: one of {KINDS}"),
        (with_rule(kind="cap", per="day", amount="0"), "rules[0].amount: must be more than 0"),
        (
            with_rule(kind="cap", per="day", amount="-5"),
            "rules[0].amount: must be more than 0, not '-5' (a decimal string such as \"60\")",
        ),
        (
            with_rule(kind="cap", per="day", amount="50", countries={"FR": "0"}),
            "rules[0].countries.FR: must be more than 0",
        ),
        (
            with_rule(kind="cap", per="day", amount="50", amout="1"),
            "rules[0].amout: unknown key; did you mean 'amount'?",
        ),
        (
            {"patterns": {"duplicates": {"window_days": 0}}},
            "patterns.duplicates.window_days: must be at least 1",
        ),
        (
            with_rule(kind="cap", per="expense", amount="50", categories=["MEALS", "MEAL"]),
            "rules[0].categories[1]: no category 'MEAL' in categories.csv; did you mean 'MEALS'?",
        ),
        (
            with_rule(kind="cap", per="expense", amount="50.001"),
            "rules[0].amount: 50.001 has more than 2 decimals, the most EUR allows",
        ),
        (
            {"currency": "USD", "rules": []},
            "currency: USD is not the company currency (EUR) and fx_rates.csv has no rate for it: add one, "
            "or give the policy's amounts in EUR",
        ),
    ],
)
async def test_a_bad_policy_names_the_json_path_and_nothing_is_written(
    engine: AsyncEngine, folder: Path, document: dict[str, Any], expected: str
) -> None:
    policy(document)(folder)
    before = await snapshot(engine)

    assert await problems_of(engine, folder) == [f"{P}:0: {expected}"]
    assert await snapshot(engine) == before


async def test_a_policy_that_is_not_json_is_one_problem(engine: AsyncEngine, folder: Path) -> None:
    edits.write(P, '{"rules": [}')(folder)

    assert await problems_of(engine, folder) == [
        f"{P}:0: -: not valid JSON: Expecting value (line 1, column 12)"
    ]


async def test_card_receipt_and_country_are_stored(
    engine: AsyncEngine, database_url: str, folder: Path
) -> None:
    CARDS(folder)

    await import_company(create_session_factory(engine), folder)

    assert await _fields(database_url) == [
        ("E-001", "**** 4242", "RCPT-1", "DE"),
        ("E-004", "**** 4242", "RCPT-1", "US"),
    ]


async def test_a_dry_run_shows_them(engine: AsyncEngine, folder: Path) -> None:
    CARDS(folder)

    report = await import_company(create_session_factory(engine), folder, dry_run=True)

    assert "; card '**** 4242'; receipt_id 'RCPT-1'; country 'DE'; memo 'Team plan'" in expense_line(
        report.preview[0], "EUR"
    )


async def test_bad_card_and_country_cells_are_reported(engine: AsyncEngine, folder: Path) -> None:
    edits.add_columns(
        "expenses.csv", {"card": {"E-002": "x" * 33}, "country": {"E-003": "UK", "E-005": "Germany"}}
    )(folder)

    assert await problems_of(engine, folder) == [
        "expenses.csv:3: card: longer than 32 characters",
        "expenses.csv:4: country: 'UK' is not an ISO 3166-1 alpha-2 country code; did you mean 'GB'?",
        "expenses.csv:6: country: 'Germany' is not an ISO 3166-1 alpha-2 country code (two letters, such "
        "as GB, US or DE)",
    ]


async def test_an_append_stores_the_new_rows_fields_and_leaves_the_policy(
    engine: AsyncEngine, database_url: str, folder: Path
) -> None:
    sessions = create_session_factory(engine)
    await import_company(sessions, folder)
    CARDS(folder)
    edits.append(
        "expenses.csv",
        "E-021,2026-03-25,rep@acme.test,,FIGMA.COM,,,45.00,EUR,,,pending,card,,,false,**** 1111,R-9,FR",
    )(folder)
    policy({"rules": []})(folder)

    added = await import_company(sessions, folder, append=True)

    assert added.expenses == 1
    assert await _fields(database_url) == [("E-021", "**** 1111", "R-9", "FR")]  # E-001 was there: unchanged
    assert await raw(database_url, "SELECT count(*) FROM expense_policies") == [(0,)]


def card_statement(folder: Path) -> tuple[Path, Path]:
    """The statement fixture with a card, a receipt and a country column (one row has them), and the
    card-statement mapping that reads them (the country DE when empty)."""
    header, first, *others = STATEMENT.read_text().splitlines()
    export = folder / "statement.csv"
    lines = [f"{header};Card;Receipt;Country", f"{first};**** 4242;RC-1;de", *(f"{t};;;" for t in others)]
    export.write_text("\n".join(lines) + "\n")
    mapping = folder / "statement.yaml"
    mapping.write_text(
        (ledgers.MAPPINGS / "card-statement.yaml").read_text()
        + "card: Card\nreceipt_id: Receipt\ncountry: {column: Country, default: DE}\n"
    )
    return export, mapping


async def test_a_mapping_reads_card_receipt_and_country(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    export, mapping = card_statement(tmp_path)

    await import_export(create_session_factory(engine), export, mapping, company="example")

    assert await _fields(database_url) == [
        ("STM-R-1", "**** 4242", "RC-1", "DE"),
        ("STM-R-2", None, None, "DE"),
        ("STM-R-3", None, None, "DE"),
        ("STM-R-4", None, None, "DE"),
        ("STM-R-5", None, None, "DE"),
    ]


async def _fields(url: str) -> list[tuple[Any, ...]]:
    return await raw(
        url,
        "SELECT ref, card, receipt_id, country FROM expenses "
        "WHERE card IS NOT NULL OR receipt_id IS NOT NULL OR country IS NOT NULL ORDER BY ref",
    )
