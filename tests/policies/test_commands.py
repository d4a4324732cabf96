"""`outlay policy load FILE` and `outlay policy show` as a person runs them, on both backends: versions,
the record of each load, and a bad file's problems under its own name with nothing written."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from tests.transports.conftest import server_env
from tests.transports.test_cli import run_outlay
from tests.world import raw, seed_world

POLICY: dict[str, Any] = {
    "rules": [
        {"id": "receipts", "kind": "receipt_required", "above": "25"},
        {"id": "meals", "kind": "cap", "per": "expense", "amount": "60", "categories": ["MEALS"]},
    ]
}


@pytest.fixture
def two_companies(database_url: str) -> str:
    asyncio.run(seed_world(database_url))
    return database_url


def write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document))
    return path


def stored(url: str) -> list[tuple[Any, ...]]:
    return asyncio.run(
        raw(
            url,
            "SELECT c.slug, p.version FROM expense_policies AS p JOIN companies AS c ON c.id = p.company_id "
            "ORDER BY c.slug, p.version",
        )
    )


def test_each_load_is_the_next_version_in_force_and_is_recorded(two_companies: str, tmp_path: Path) -> None:
    env = server_env(two_companies)
    first = write(tmp_path / "policy.json", POLICY)
    second = write(tmp_path / "stricter.json", {"rules": POLICY["rules"][:1]})

    none = run_outlay("policy", "show", "--company", "acme", env=env)
    loaded = run_outlay("policy", "load", str(first), "--company", "acme", env=env)
    replaced = run_outlay("policy", "load", str(second), "--company", "acme", env=env)
    shown = run_outlay("policy", "show", "--company", "acme", env=env)

    assert [r.returncode for r in (none, loaded, replaced, shown)] == [0, 0, 0, 0], replaced.stderr
    assert none.stderr == "acme has no expense policy loaded: `outlay policy load FILE` loads one.\n"
    assert loaded.stderr == (
        "Loaded the expense policy of 'acme': version 1, 2 rules; it is in force from now.\n"
    )
    assert replaced.stderr == (
        "Loaded the expense policy of 'acme': version 2 (version 1 was), 1 rule; it is in force from now.\n"
    )
    assert shown.stderr == "acme: expense policy version 2\n"
    assert [rule["id"] for rule in json.loads(shown.stdout)["rules"]] == ["receipts"]
    assert stored(two_companies) == [("acme", 1), ("acme", 2)]
    changes = asyncio.run(
        raw(two_companies, "SELECT actor, details FROM data_changes WHERE action = 'load_expense_policy'")
    )
    assert [(actor, _json(details)) for actor, details in changes] == [
        ("cli", {"company": "acme", "file": "policy.json", "version": 1, "rules": 2}),
        ("cli", {"company": "acme", "file": "stricter.json", "version": 2, "rules": 1}),
    ]


def test_a_bad_file_is_refused_by_its_own_name_and_nothing_is_written(
    two_companies: str, tmp_path: Path
) -> None:
    env = server_env(two_companies)
    malformed = write(
        tmp_path / "acme-policy.json",
        {
            "rules": [
                {"id": "a", "kind": "cap", "per": "day", "amount": "0"},
                {"id": "b", "kind": "nope"},
            ],
        },
    )
    unknown = write(
        tmp_path / "gbp.json",
        {"currency": "GBP", "rules": [{"id": "a", "kind": "weekend_spend", "categories": ["MEAL"]}]},
    )

    refused = run_outlay("policy", "load", str(malformed), "--company", "acme", env=env)
    unmet = run_outlay("policy", "load", str(unknown), "--company", "acme", env=env)

    assert (refused.returncode, unmet.returncode) == (1, 1)
    assert refused.stderr.splitlines() == [
        "acme-policy.json:0: rules[0].amount: must be more than 0",
        "acme-policy.json:0: rules[1].kind: unknown kind 'nope'; the kinds are: receipt_required, cap, "
        "blocked, weekend_spend, keywords, just_below_threshold",
        f"outlay: {malformed} was not loaded: 2 problem(s); the policy in force is unchanged",
    ]
    assert unmet.stderr.splitlines() == [
        "gbp.json:0: rules[0].categories[0]: no category 'MEAL' in the company's categories; did you mean "
        "'MEALS'?",
        "gbp.json:0: currency: GBP is not the company currency (EUR) and the company has no exchange rate "
        "for it: add one, or give the policy's amounts in EUR",
        f"outlay: {unknown} was not loaded: 2 problem(s); the policy in force is unchanged",
    ]
    assert stored(two_companies) == []


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_company_must_be_named_when_several_are_loaded(two_companies: str, tmp_path: Path) -> None:
    env = server_env(two_companies)
    file = write(tmp_path / "policy.json", POLICY)

    unnamed = run_outlay("policy", "load", str(file), env=env)
    unknown = run_outlay("policy", "show", "--company", "acmee", env=env)
    missing = run_outlay("policy", "load", str(tmp_path / "none.json"), "--company", "acme", env=env)

    assert [r.returncode for r in (unnamed, unknown, missing)] == [1, 1, 1]
    assert (
        unnamed.stderr == "outlay: several companies are loaded: pass --company with one of: acme, globex\n"
    )
    assert unknown.stderr == (
        "outlay: no company with slug 'acmee' is loaded: pass --company with one of: acme, globex\n"
    )
    assert missing.stderr.splitlines()[0] == "none.json:0: -: cannot be read (No such file or directory)"
    assert stored(two_companies) == []


def _json(details: Any) -> Any:
    return json.loads(details) if isinstance(details, str) else details
