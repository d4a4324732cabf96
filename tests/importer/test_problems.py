"""Every kind of bad input: the exact `file:line: column: problem` list, and an unchanged database.

Each case copies the valid fixture folder and applies its edits (tests/importer/edits.py). Line numbers
refer to tests/importer/fixtures/valid: line 1 is each file's header; expenses.csv's last record (E-020)
spans lines 21-22, so a row appended to it is line 23.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from server.db.engine import create_session_factory
from server.importer import ImportFailed, import_company, problems
from server.kit.periods import PERIOD_HELP
from tests.importer.conftest import OTHER_SLUG
from tests.importer.edits import Edit, append, remove, replace, replace_bytes, write
from tests.importer.snapshot import snapshot

pytestmark = pytest.mark.anyio

STEP_FORMS = (
    "team_manager, manager_of:<step>, cost_center_owner, finance_team, role:<role> or employee:<email>"
)
E = "expenses.csv"
H = "approval_history.csv"
P = "approval_policy.json"


@dataclass(frozen=True)
class Case:
    id: str
    edits: tuple[Edit, ...]
    problems: list[str]


CASES = [
    Case(
        "missing_files",
        (remove("teams.csv"), remove(P)),
        ["teams.csv:0: -: required file is missing", "approval_policy.json:0: -: required file is missing"],
    ),
    Case(
        "empty_file", (write("budgets.csv", ""),), ["budgets.csv:0: -: file is empty; expected a header row"]
    ),
    Case(
        "header",
        (
            replace("employees.csv", ",role,", ",rol,"),
            replace(E, ",memo,", ",memos,"),
            replace("budgets.csv", "amount,currency", "amount,currency,amount"),
        ),
        [
            "employees.csv:1: rol: unknown column 'rol'; did you mean 'role'?",
            "employees.csv:1: role: required column is missing",
            "expenses.csv:1: memos: unknown column 'memos'; did you mean 'memo'?",
            "budgets.csv:1: amount: column appears twice",
        ],
    ),
    Case(
        "company_rows",
        (append("company.csv", "initech,Initech,USD"), append("teams.csv", "Marketing,Executive")),
        [
            "company.csv:3: -: company.csv has exactly one company row; this is an extra one",
            "teams.csv:5: -: expected 4 cells like the header, found 2",
        ],
    ),
    Case(
        "no_company_row",
        (write("company.csv", "slug,name,currency\n"),),
        ["company.csv:0: -: no company row; expected exactly one"],
    ),
    Case(
        "bad_company",
        (replace("company.csv", "acme,Acme Robotics GmbH,EUR", "Acme!,,EURO"),),
        [
            "company.csv:2: slug: 'Acme!' is not a valid slug (2 to 64 of a-z, 0-9 and '-')",
            "company.csv:2: name: required",
            "company.csv:2: currency: unknown ISO 4217 currency code 'EURO'",
        ],
    ),
    Case(
        "bad_country",
        (write("company.csv", "slug,name,currency,country\nacme,Acme Robotics GmbH,EUR,UK\n"),),
        ["company.csv:2: country: 'UK' is not an ISO 3166-1 alpha-2 country code; did you mean 'GB'?"],
    ),
    Case(
        "unknown_country",
        (write("company.csv", "slug,name,currency,country\nacme,Acme Robotics GmbH,EUR,Germany\n"),),
        [
            "company.csv:2: country: 'Germany' is not an ISO 3166-1 alpha-2 country code (two letters, "
            "such as GB, US or DE)"
        ],
    ),
    Case(
        "duplicate_keys",
        (
            append("teams.csv", "Sales,Executive,,CC-301"),
            append("employees.csv", "REP@acme.test,Rita Again,Sales,,employee,,,,,"),
            append("categories.csv", "MEALS,Food,,,,,"),
            append(E, "E-003,2026-03-21,rep@acme.test,,UBER *TRIP,,,5.00,EUR,,,,,,,"),
            append("budgets.csv", "Sales,,2026-01,100,EUR"),
        ),
        [
            "teams.csv:5: name: duplicate team 'Sales' (first on line 4)",
            "employees.csv:8: email: duplicate e-mail 'rep@acme.test' (first on line 7)",
            "categories.csv:7: code: duplicate category code 'MEALS' (first on line 4)",
            "expenses.csv:23: id: duplicate expense id 'E-003' (first on line 4)",
            "budgets.csv:6: period: duplicate budget for team 'Sales', all categories, starting 2026-01-01"
            " (first on line 5)",
        ],
    ),
    Case(
        "unknown_references_between_organization_files",
        (
            replace("teams.csv", "Sales,Executive,", "Sales,Exec,"),
            replace("teams.csv", "Executive,,ceo@acme.test", "Executive,,boss@acme.test"),
            replace("employees.csv", "Rita Rep,Sales,", "Rita Rep,Sale,"),
            replace(
                "employees.csv", "Dev Lead,Engineering,cto@acme.test", "Dev Lead,Engineering,cto@acme.com"
            ),
            replace("employees.csv", "2026-03-13,dev.lead@acme.test", "2026-03-13,dev@acme.test"),
            replace("categories.csv", "Flights,TRAVEL,", "Flights,TRAVELS,"),
        ),
        [
            "teams.csv:2: manager_email: no employee 'boss@acme.test' in employees.csv",
            "teams.csv:4: parent: no team named 'Exec' in teams.csv; did you mean 'Executive'?",
            "employees.csv:4: delegate_email: no employee 'dev@acme.test' in employees.csv",
            "employees.csv:5: manager_email: no employee 'cto@acme.com' in employees.csv;"
            " did you mean 'cto@acme.test'?",
            "employees.csv:7: team: no team named 'Sale' in teams.csv; did you mean 'Sales'?",
            "categories.csv:3: parent_code: no category 'TRAVELS' in categories.csv; did you mean 'TRAVEL'?",
        ],
    ),
    Case(
        "unknown_references_from_expenses_and_budgets",
        (
            replace(E, "E-003,2026-01-09,sales.lead@acme.test", "E-003,2026-01-09,nobody@acme.test"),
            replace(E, "rep@acme.test,Executive,", "rep@acme.test,Board,"),
            replace(E, "rejected,card,MEALS,llm", "rejected,card,MEAL,llm"),
            replace("budgets.csv", "Sales,MEALS,2026-03", "Marketing,MEALS,2026-03"),
            replace("budgets.csv", "Engineering,SOFTWARE", "Engineering,SOFTWARES"),
        ),
        [
            "expenses.csv:4: employee_email: no employee 'nobody@acme.test' in employees.csv",
            "expenses.csv:10: team: no team named 'Board' in teams.csv",
            "expenses.csv:14: category_code: no category 'MEAL' in categories.csv; did you mean 'MEALS'?",
            "budgets.csv:3: category_code: no category 'SOFTWARES' in categories.csv; did you mean"
            " 'SOFTWARE'?",
            "budgets.csv:4: team: no team named 'Marketing' in teams.csv",
        ],
    ),
    Case(
        "unknown_references_from_policy_and_history",
        (
            replace(P, '"category_in": ["SOFTWARE"]', '"category_in": ["SOFT"]'),
            replace(P, '"team_in": ["Sales"]', '"team_in": ["Sales Ops"]'),
            replace(P, "employee:cfo@acme.test", "employee:cfo@acme.com"),
            replace(P, "role:manager", "role:vp"),
            replace(H, "approved,E-002,1", "approved,E-999,1"),
            replace(H, "rejected,,1,cfo@acme.test", "rejected,,1,cfo@acme.com"),
        ),
        [
            "approval_policy.json:0: rules[2].when.category_in[0]: no category 'SOFT' in categories.csv;"
            " did you mean 'SOFTWARE'?",
            "approval_policy.json:0: rules[2].steps[0]: no employee 'cfo@acme.com' in employees.csv;"
            " did you mean 'cfo@acme.test'?",
            "approval_policy.json:0: rules[3].when.team_in[0]: no team named 'Sales Ops' in teams.csv;"
            " did you mean 'Sales'?",
            "approval_policy.json:0: rules[3].steps[0]: no employee in employees.csv has the role 'vp'",
            "approval_history.csv:2: expense_id: no expense 'E-999' in expenses.csv",
            "approval_history.csv:5: approver_email: no employee 'cfo@acme.com' in employees.csv;"
            " did you mean 'cfo@acme.test'?",
        ],
    ),
    Case(
        "bad_dates_and_timestamps",
        (
            replace(E, "E-005,2026-01-15", "E-005,2026-02-30"),
            replace(E, "E-006,2026-01-20", "E-006,20/01/2026"),
            replace("employees.csv", "2026-03-02,2026-03-13", "2026-03-02,2026-03-01"),
            replace("employees.csv", "manager,5000,TRUE,,", "manager,5000,TRUE,2026-04-01,"),
            replace("employees.csv", "employee,,false,,", "employee,,false,,2026-04-01"),
            replace(H, "2026-01-06T09:00:00+01:00", "2026-01-06T09:00:00"),
            replace(H, "2026-02-25T09:00:00+00:00", "yesterday"),
        ),
        [
            "employees.csv:4: out_of_office_until: 2026-03-01 is before out_of_office_from (2026-03-02)",
            "employees.csv:6: out_of_office_until: required when out_of_office_from is given",
            "employees.csv:7: out_of_office_from: required when out_of_office_until is given",
            "expenses.csv:6: date: '2026-02-30' is not a date (YYYY-MM-DD)",
            "expenses.csv:7: date: '20/01/2026' is not a date (YYYY-MM-DD)",
            "approval_history.csv:2: submitted_at: '2026-01-06T09:00:00' has no UTC offset"
            " (write it like 2026-03-04T09:15:00+00:00)",
            "approval_history.csv:5: decided_at: 'yesterday' is not an ISO 8601 timestamp"
            " (2026-03-04T09:15:00+00:00)",
        ],
    ),
    Case(
        "bad_amounts",
        (
            replace(E, "19.00,EUR,,Team plan", '"19,00",EUR,,Team plan'),
            replace(E, "12.50,EUR", "12.505,EUR"),
            replace(E, "48000,JPY", "48000.5,JPY"),
            replace(E, "642.18,USD,590.35", "642.18,USD,"),
            replace(E, "512.60,GBP,598.77", "512.60,GBP,598.7x"),
            replace(E, "31.10,EUR,,", "31.10,EUR,31.00,"),
            replace("employees.csv", "cfo,50000.00", "cfo,-5"),
            replace("budgets.csv", "Sales,MEALS,2026-03,2000", "Sales,MEALS,2026-03,-2000"),
        ),
        [
            "employees.csv:3: approval_limit: must not be negative",
            "expenses.csv:2: amount: '19,00' is not an amount (digits with a decimal point, e.g. -1234.50)",
            "expenses.csv:4: amount: 12.505 has more than 2 decimals, the most EUR allows",
            "expenses.csv:5: amount_company: required when currency (USD) is not the company's (EUR)",
            "expenses.csv:8: amount: 48000.5 has more than 0 decimals, the most JPY allows",
            "expenses.csv:9: amount_company: differs from amount, but currency is the company currency EUR",
            "expenses.csv:17: amount_company: '598.7x' is not an amount (digits with a decimal point, e.g."
            " -1234.50)",
            "budgets.csv:4: amount: must not be negative",
        ],
    ),
    Case(
        "bad_currencies",
        (
            replace(E, "187.50,EUR", "187.50,EURO"),
            replace(E, "1320.44,EUR", "1320.44,XAU"),
            replace("budgets.csv", "Sales,,2026-Q1,30000,EUR", "Sales,,2026-Q1,30000,USD"),
        ),
        [
            "expenses.csv:11: currency: unknown ISO 4217 currency code 'EURO'",
            "expenses.csv:13: currency: 'XAU' is not a spendable currency",
            "budgets.csv:5: currency: USD is not the company currency (EUR); budgets are in it",
        ],
    ),
    Case(
        "bad_flags_and_choices",
        (
            replace("employees.csv", "employee,,false", "employee,,no"),
            replace(E, "SOFTWARE,,true\nE-002", "SOFTWARE,,yes\nE-002"),
            replace(E, "23.99,EUR,,,pending", "23.99,EUR,,,done"),
            replace(E, "9.99,EUR,,,pending,card", "9.99,EUR,,,pending,cash"),
            replace(
                E,
                "AMZN MKTP DE*2K4LL1,,5943,45.90,EUR,,Notebooks,approved,card,OFFICE,human",
                "AMZN MKTP DE*2K4LL1,,5943,45.90,EUR,,Notebooks,approved,card,OFFICE,robot",
            ),
            replace(
                H,
                "Dinner with Globex,2026-02-24T18:00:00+00:00,rejected",
                "Dinner with Globex,2026-02-24T18:00:00+00:00,open",
            ),
            replace(H, "sales.lead@acme.test,rejected,", "sales.lead@acme.test,maybe,"),
        ),
        [
            "employees.csv:7: active: 'no' is not true or false",
            "expenses.csv:2: receipt: 'yes' is not true or false",
            "expenses.csv:6: payment_type: 'cash' is not one of: card, reimbursement, invoice",
            "expenses.csv:7: category_source: 'robot' is not one of: human, rule, model, llm",
            "expenses.csv:15: status: 'done' is not one of: pending, approved, rejected, reimbursed",
            "approval_history.csv:5: status: 'open' is not one of: pending, approved, rejected",
            "approval_history.csv:5: decision: 'maybe' is not one of: approved, rejected",
        ],
    ),
    Case(
        "bad_merchant_category_codes",
        (
            replace(E, "GitHub,5734,19.00", "GitHub,573,19.00"),
            replace(E, "HELP.UBER.COM,,4121,23.40", "HELP.UBER.COM,,9999,23.40"),
            replace("categories.csv", "5812 5814", "5812 58x4"),
        ),
        [
            "categories.csv:4: mcc_codes: '58x4' is not a 4-digit merchant category code",
            "expenses.csv:2: mcc: '573' is not a 4-digit merchant category code",
            "expenses.csv:3: mcc: '9999' is not a known ISO 18245 merchant category code",
        ],
    ),
    Case(
        "cycles",
        (
            replace("teams.csv", "Executive,,ceo@acme.test", "Executive,Sales,ceo@acme.test"),
            replace("employees.csv", "Carla Ortiz,Executive,,ceo", "Carla Ortiz,Executive,rep@acme.test,ceo"),
            replace("categories.csv", "TRAVEL,Travel,,6100", "TRAVEL,Travel,TRAVEL-AIR,6100"),
        ),
        [
            "teams.csv:2: parent: the team hierarchy has a cycle: Executive -> Sales -> Executive",
            "employees.csv:2: manager_email: the management chain has a cycle:"
            " ceo@acme.test -> rep@acme.test -> sales.lead@acme.test -> ceo@acme.test",
            "categories.csv:2: parent_code: the category hierarchy has a cycle: TRAVEL -> TRAVEL-AIR ->"
            " TRAVEL",
        ],
    ),
    Case(
        "self_references",
        (
            replace("teams.csv", "Sales,Executive,", "Sales,Sales,"),
            replace(
                "employees.csv",
                "Dev Lead,Engineering,cto@acme.test",
                "Dev Lead,Engineering,DEV.LEAD@acme.test",
            ),
            replace("employees.csv", "2026-03-13,dev.lead@acme.test", "2026-03-13,cto@acme.test"),
            replace("categories.csv", "OFFICE,Office supplies,,", "OFFICE,Office supplies,OFFICE,"),
        ),
        [
            "teams.csv:4: parent: a team cannot be its own parent",
            "employees.csv:4: delegate_email: an employee cannot be their own delegate",
            "employees.csv:5: manager_email: an employee cannot be their own manager",
            "categories.csv:6: parent_code: a category cannot be its own parent",
        ],
    ),
    Case(
        "approval_history_rules",
        (
            replace(
                H, "rejected,,1,cfo@acme.test,sales.lead@acme.test", "rejected,,1,rep@acme.test,rep@acme.test"
            ),
            replace(H, "2026-01-06T10:30:00+01:00", "2026-01-06T07:59:59+00:00"),
            replace(
                H,
                "642.18,USD,590.35,card,NYC offsite flights,2026-01-10T14:00:00+00:00,approved,E-004,2",
                "642.19,USD,590.35,card,NYC offsite flights,2026-01-10T14:00:00+00:00,approved,E-004,2",
            ),
            append(
                H,
                "R-002,CTO@acme.test,,TRAVEL-AIR,642.18,USD,590.35,card,NYC offsite flights,"
                "2026-01-10T14:00:00+00:00,approved,E-004,1,ceo@acme.test,,approved,2026-01-10T16:00:00+00:00",
            ),
            append(
                H,
                "R-004,rep@acme.test,,,10.00,EUR,,,,2026-03-01T09:00:00+00:00,pending,,0,ceo@acme.test,,"
                "approved,2026-03-01T10:00:00+00:00",
            ),
        ),
        [
            "approval_history.csv:2: decided_at: 2026-01-06T07:59:59+00:00 is before submitted_at"
            " (2026-01-06T09:00:00+01:00)",
            "approval_history.csv:4: amount: differs from line 3 of request 'R-002' ('642.18' there)",
            "approval_history.csv:5: approver_email: the requester cannot approve their own request",
            "approval_history.csv:5: on_behalf_of_email: an approver cannot stand in for themselves",
            "approval_history.csv:6: step: duplicate step 1 of request 'R-002' (first on line 3)",
            "approval_history.csv:7: step: '0' is not a whole number from 1 up",
        ],
    ),
    Case(
        "open_requests",  # rows without a decision: only a pending request's one and only row
        (
            append(
                H,
                "R-010,rep@acme.test,,,10.00,EUR,,,,2026-03-01T09:00:00+00:00,approved,,,,,,",
                "R-011,rep@acme.test,,,10.00,EUR,,,,2026-03-01T09:00:00+00:00,pending,,,,,,",
                "R-011,rep@acme.test,,,10.00,EUR,,,,2026-03-01T09:00:00+00:00,pending,,,,,,",
                "R-001,rep@acme.test,,TRAVEL,23.40,EUR,,card,Client visit taxi,2026-01-06T09:00:00+01:00,"
                "approved,E-002,,,,,",
                "R-012,rep@acme.test,,,10.00,EUR,,,,2026-03-01T09:00:00+00:00,pending,,,,,,",
                "R-012,rep@acme.test,,,10.00,EUR,,,,2026-03-01T09:00:00+00:00,pending,,1,ceo@acme.test,,"
                "approved,2026-03-01T10:00:00+00:00",
                "R-013,rep@acme.test,,,10.00,EUR,,,,2026-03-01T09:00:00+00:00,pending,,1,,,,",
            ),
        ),
        [
            "approval_history.csv:6: decision: required: a request that is approved has decisions; only a "
            "pending one may have none",
            "approval_history.csv:8: request_id: duplicate row without a decision of request 'R-011' (first "
            "on line 7)",
            "approval_history.csv:9: decision: required: a request that is approved has decisions; only a "
            "pending one may have none",
            "approval_history.csv:9: step: request 'R-001' has both decisions and a row without one (line 2):"
            " a request is either its decisions' rows, or one row with the decision columns empty",
            "approval_history.csv:11: step: request 'R-012' has both decisions and a row without one (line "
            "10): a request is either its decisions' rows, or one row with the decision columns empty",
            "approval_history.csv:12: approver_email: required",
            "approval_history.csv:12: decision: required",
            "approval_history.csv:12: decided_at: required",
        ],
    ),
    Case(
        "policy_schema",
        (
            write(
                P,
                """{
  "rules": [
    {"name": "A", "when": {"amount_above": "10"}, "steps": ["team_manager"]},
    {"name": "B", "when": {"amount_over": 5000}, "steps": ["boss", "manager_of:cfo", 7]},
    {"name": "C", "when": {"payment_type_in": ["cash"], "requester_role_in": ["Team Lead"]}, "steps": []},
    {"steps": ["finance_team", "role:Head"]},
    {"name": "A", "steps": ["employee:nobody"]}
  ],
  "version": 2
}""",
            ),
        ),
        [
            "approval_policy.json:0: rules[0].when.amount_above: unknown key; did you mean 'amount_over'?",
            "approval_policy.json:0: rules[1].when.amount_over: must be a non-negative decimal string such"
            ' as "5000"'
            ' or "249.99"',
            f"approval_policy.json:0: rules[1].steps[0]: unknown step 'boss'; expected {STEP_FORMS}",
            "approval_policy.json:0: rules[1].steps[1]: unknown step 'cfo' in 'manager_of:cfo'; expected"
            f" {STEP_FORMS}",
            "approval_policy.json:0: rules[1].steps[2]: a step must be a string such as 'team_manager'",
            "approval_policy.json:0: rules[2].when.requester_role_in[0]: role 'Team Lead' is not lower snake"
            " case"
            " (e.g. 'it_lead')",
            "approval_policy.json:0: rules[2].when.payment_type_in[0]: Input should be 'card',"
            " 'reimbursement' or"
            " 'invoice'",
            "approval_policy.json:0: rules[2].steps: a rule needs at least one step",
            "approval_policy.json:0: rules[3].name: required",
            "approval_policy.json:0: rules[3].steps[1]: role 'Head' in step 'role:Head' is not lower snake"
            " case",
            "approval_policy.json:0: rules[4].steps[0]: 'nobody' in step 'employee:nobody' is not an e-mail"
            " address",
            "approval_policy.json:0: version: unknown key; expected: rules, controls",
        ],
    ),
    Case(
        "policy_duplicate_rule_name",
        (replace(P, '"name": "Sales travel"', '"name": "Software"'),),
        [
            "approval_policy.json:0: rules: rule name 'Software' is used by rules[2] and rules[3]",
        ],
    ),
    Case(
        "policy_controls",
        (
            replace(
                P,
                '"rules": [',
                '"controls": {"no_approval_from_below": "yes", "delegate_covers_own_steps": false},'
                '\n  "rules": [',
            ),
            replace(P, '"finance_team"]}', '"finance_team"], "min_distinct_approvers": 0}'),
        ),
        [
            "approval_policy.json:0: rules[1].min_distinct_approvers: must be a whole number of at least 1,"
            " such as 3",
            "approval_policy.json:0: controls.no_approval_from_below: must be true or false",
            "approval_policy.json:0: controls.delegate_covers_own_steps: unknown key; did you mean"
            " 'delegate_covers_own_step_only'?",
        ],
    ),
    Case(
        "policy_more_signers_than_steps",
        (replace(P, '"finance_team"]}', '"finance_team"], "min_distinct_approvers": 6}'),),
        [
            "approval_policy.json:0: rules[1].min_distinct_approvers: 6 signers cannot be met: the policy has"
            " 5 different steps, one signer each"
        ],
    ),
    Case(
        "policy_amount_decimals",
        (replace(P, '"amount_over": "5000"', '"amount_over": "5000.001"'),),
        [
            "approval_policy.json:0: rules[1].when.amount_over: 5000.001 has more than 2 decimals, the most"
            " EUR allows"
        ],
    ),
    Case(
        "policy_not_json",
        (write(P, '{"rules": [\n  {"name": "A",}\n]}'),),
        [
            "approval_policy.json:0: -: not valid JSON: Expecting property name enclosed in double quotes"
            " (line 2, column 16)"
        ],
    ),
    Case(
        "not_utf8_and_bad_quoting",
        (
            append("teams.csv", 'Legal,Executive,,"CC-400"x'),
            replace_bytes(
                "categories.csv", b"Office supplies", b"Bureau \xe9quipement"
            ),  # Latin-1, not UTF-8
        ),
        [
            "teams.csv:5: -: not readable as CSV (',' expected after '\"')",
            "categories.csv:6: -: not UTF-8 text (invalid continuation byte at byte 15 of the line)",
        ],
    ),
    Case(
        "other_cells",
        (
            replace(E, "9.99,EUR,,,pending,card,,,false", "9.99,EUR,,,pending,card,,rule,false"),
            replace("categories.csv", "Meals,,6200,10,", "Meals,,6200,150,"),
            replace("categories.csv", "Office supplies,,6400,5.5,", "Office supplies,,6400,5.555,"),
            replace("budgets.csv", "2026-03", "2026-13"),
            replace("budgets.csv", "Sales,,2026-Q1", "Sales,,2026-Q5"),
            replace("teams.csv", "CC-300", "C" * 65),
            replace(
                "employees.csv",
                "ceo@acme.test,Carla Ortiz,Executive,,ceo,",
                "ceo@acme.test,Carla Ortiz,Executive,,CEO,",
            ),
        ),
        [
            "teams.csv:4: cost_center: longer than 64 characters",
            "employees.csv:2: role: 'CEO' is not a role in lower snake case (e.g. 'employee', 'it_lead')",
            "categories.csv:4: vat_rate: '150' is not a percentage from 0 to 100 (e.g. 20 or 5.5)",
            "categories.csv:6: vat_rate: '5.555' has more than 2 decimals",
            "expenses.csv:6: category_source: given without a category_code",
            f"budgets.csv:4: period: '2026-13' is not a period: use {PERIOD_HELP}",
            f"budgets.csv:5: period: '2026-Q5' is not a period: use {PERIOD_HELP}",
        ],
    ),
    Case(
        "three_problems_in_three_files",
        (
            replace("teams.csv", "Sales,Executive,", "Sales,Marketing,"),
            replace(E, "E-010,2026-02-10", "E-010,2026-02-31"),
            replace(H, "rejected,,1,cfo@acme.test", "rejected,,1,rep@acme.test"),
        ),
        [
            "teams.csv:4: parent: no team named 'Marketing' in teams.csv",
            "expenses.csv:11: date: '2026-02-31' is not a date (YYYY-MM-DD)",
            "approval_history.csv:5: approver_email: the requester cannot approve their own request",
        ],
    ),
    Case(
        "existing_company",
        (
            replace("company.csv", "acme,", f"{OTHER_SLUG},"),
            replace(E, "E-010,2026-02-10", "E-010,2026-02-31"),
        ),
        [
            f"company.csv:2: slug: company '{OTHER_SLUG}' already exists; use --replace to replace it",
            "expenses.csv:11: date: '2026-02-31' is not a date (YYYY-MM-DD)",
        ],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_reports_every_problem_and_writes_nothing(
    case: Case, folder: Path, globex_engine: AsyncEngine
) -> None:
    for edit in case.edits:
        edit(folder)
    before = await snapshot(globex_engine)

    with pytest.raises(ImportFailed) as failed:
        await import_company(create_session_factory(globex_engine), folder)

    assert [str(problem) for problem in failed.value.problems] == case.problems
    assert await snapshot(globex_engine) == before


async def test_not_a_folder(tmp_path: Path, globex_engine: AsyncEngine) -> None:
    with pytest.raises(ImportFailed) as failed:
        await import_company(create_session_factory(globex_engine), tmp_path / "nowhere")

    assert [str(problem) for problem in failed.value.problems] == [
        f"{tmp_path / 'nowhere'}:0: -: not a folder"
    ]


async def test_problems_beyond_the_listed_are_counted(
    folder: Path, globex_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(problems, "LISTED", 2)
    bad_dates = (f"B-{i},2026-13-01,rep@acme.test,,TAXI,,,1.00,EUR,,,,,,," for i in range(4))
    append("expenses.csv", *bad_dates)(folder)
    before = await snapshot(globex_engine)

    with pytest.raises(ImportFailed) as failed:
        await import_company(create_session_factory(globex_engine), folder)

    assert (failed.value.count, failed.value.unlisted, str(failed.value).splitlines()) == (
        4,
        2,
        [
            "4 problems; nothing was imported",
            "expenses.csv:23: date: '2026-13-01' is not a date (YYYY-MM-DD)",
            "expenses.csv:24: date: '2026-13-01' is not a date (YYYY-MM-DD)",
            "... and 2 more problem(s), not listed: the first 2 found are",
        ],
    )
    assert await snapshot(globex_engine) == before
