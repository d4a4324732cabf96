"""expense_policy.json (optional): the `server.kit.expense_policy.ExpensePolicy` model, plus what it names
that must exist: its categories, and an exchange rate for a policy currency other than the company's.

Every problem is on line 0 with the JSON path of the bad value as its column (server/importer/json_file.py).
`outlay policy load FILE` reads a file by the same rules, its problems under the file's own name.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from decimal import Decimal
from pathlib import Path

from server.importer import fields
from server.importer.checks import Known
from server.importer.json_file import check_amount, check_known, read_document
from server.importer.problems import Problems
from server.kit.expense_policy import Cap, ExpensePolicy, JustBelowThreshold, ReceiptRequired

FILE = "expense_policy.json"
_WITHOUT_RATE = {False: "fx_rates.csv has no rate for it", True: "the company has no exchange rate for it"}


def read_expense_policy(
    folder: Path, known: Known, rates: Collection[str] | None, problems: Problems
) -> ExpensePolicy | None:
    """The folder's policy; None when it has none (no problem) or when it has problems."""
    path = folder / FILE
    if not path.exists():
        return None
    return read_expense_policy_file(path, FILE, known, rates, problems)


def read_expense_policy_file(
    path: Path,
    file: str,
    known: Known,
    rates: Collection[str] | None,
    problems: Problems,
    *,
    stored: bool = False,
) -> ExpensePolicy | None:
    """The policy at `path`, checked against the company (`known`) and the currencies it has exchange
    rates for (`rates`; None when they could not be read); problems recorded under `file`. `stored`: the
    categories and rates are the company's in the database, not the import folder's files."""
    policy = read_document(path, file, ExpensePolicy, problems)
    if policy is None:
        return None
    found = Problems()
    kind = "stored category" if stored else "category"
    for index, rule in enumerate(policy.rules):
        check_known(file, f"rules[{index}].categories", rule.categories, kind, known.categories, found)
    currency = policy.currency or known.currency
    checked = _check_currency(file, policy, known.currency, rates, found, stored=stored)
    if checked and currency is not None:
        for column, value in _amounts(policy):
            check_amount(file, column, str(value), currency, found)
    for problem in found:
        problems.add(problem.file, problem.line, problem.column, problem.message)
    return None if found else policy


def _check_currency(
    file: str,
    policy: ExpensePolicy,
    company: str | None,
    rates: Collection[str] | None,
    problems: Problems,
    *,
    stored: bool,
) -> bool:
    """False when the policy's currency is not one (its amounts cannot be checked then)."""
    code = policy.currency
    if code is None or company is None or code == company:
        return True
    try:
        fields.currency(code)
    except ValueError as error:
        problems.add(file, 0, "currency", str(error))
        return False
    if rates is not None and code not in rates:
        problems.add(
            file, 0, "currency",
            f"{code} is not the company currency ({company}) and {_WITHOUT_RATE[stored]}: "
            f"add one, or give the policy's amounts in {company}",
        )  # fmt: skip
    return True


def _amounts(policy: ExpensePolicy) -> Iterator[tuple[str, Decimal]]:
    """Every amount of the policy, by its path."""
    for index, rule in enumerate(policy.rules):
        where = f"rules[{index}]"
        if isinstance(rule, ReceiptRequired):
            yield f"{where}.above", rule.above
        if isinstance(rule, Cap):
            yield f"{where}.amount", rule.amount
            yield from ((f"{where}.countries.{code}", value) for code, value in rule.countries.items())
        if isinstance(rule, JustBelowThreshold):
            yield from ((f"{where}.thresholds[{i}]", value) for i, value in enumerate(rule.thresholds or ()))
    patterns = policy.patterns
    split = patterns.split_purchases
    yield from (
        (f"patterns.split_purchases.thresholds[{i}]", v) for i, v in enumerate(split.thresholds or ())
    )
    if split.card_limit is not None:
        yield "patterns.split_purchases.card_limit", split.card_limit
    yield "patterns.new_merchant.first_charge_above", patterns.new_merchant.first_charge_above
    yield "patterns.round_numbers.multiple", patterns.round_numbers.multiple
