"""company.csv, teams.csv, employees.csv and categories.csv: parsing, references and hierarchies."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from server.db.models import (
    DEFAULT_AUTO_APPLY_THRESHOLD,
    DEFAULT_REVIEW_THRESHOLD,
    DEFAULT_TARGET_PRECISION,
)
from server.importer import fields
from server.importer.checks import Parsed, describe_cycle, find_cycles, first_use, report_reference
from server.importer.problems import WHOLE, Problems
from server.importer.rows import Columns, Row, read_csv

# A lower target would auto-apply answers that are wrong one time in two or more.
MIN_TARGET_PRECISION = 0.5
COMPANY = Columns.of(
    "slug name currency",
    "categorize_review_threshold categorize_auto_apply_threshold categorize_target_precision country",
)
TEAMS = Columns.of("name", "parent manager_email cost_center")
EMPLOYEES = Columns.of(
    "email name team role",
    "manager_email approval_limit active out_of_office_from out_of_office_until delegate_email",
)
CATEGORIES = Columns.of("code name", "parent_code gl_account vat_rate description mcc_codes")
R = TypeVar("R")


@dataclass(frozen=True)
class CompanyRow:
    line: int
    slug: str
    name: str
    currency: str
    # The categorizer's: below review an answer needs a human, from auto_apply it may be written alone.
    review_threshold: float = DEFAULT_REVIEW_THRESHOLD
    auto_apply_threshold: float = DEFAULT_AUTO_APPLY_THRESHOLD
    # Given: the threshold is the company's; not given, training chooses it to reach the target precision.
    auto_apply_given: bool = False
    target_precision: float = DEFAULT_TARGET_PRECISION
    country: str | None = None  # ISO 3166-1 alpha-2: the public holidays forecasts expect


@dataclass(frozen=True)
class CompanyCells:
    """What company.csv gave, even when its row is not valid: the slug to look up, the currency to
    check amounts against."""

    line: int = 2
    slug: str | None = None
    currency: str | None = None
    row: CompanyRow | None = None


@dataclass(frozen=True)
class TeamRow:
    line: int
    name: str
    parent: str | None
    manager_email: str | None
    cost_center: str | None


@dataclass(frozen=True)
class EmployeeRow:
    line: int
    email: str
    name: str
    team: str
    manager_email: str | None
    role: str
    approval_limit_minor: int | None
    active: bool
    out_of_office_from: dt.date | None
    out_of_office_until: dt.date | None
    delegate_email: str | None


@dataclass(frozen=True)
class CategoryRow:
    line: int
    code: str
    name: str
    parent_code: str | None
    gl_account: str | None
    vat_rate_bp: int | None
    description: str | None
    mcc_codes: tuple[str, ...]


def read_company(folder: Path, problems: Problems) -> CompanyCells:
    rows = read_csv(folder, "company.csv", COMPANY, problems)
    if rows is None:
        return CompanyCells()
    company, count = CompanyCells(), 0
    for row in rows:
        count += 1
        if count > 1:
            row.problem(WHOLE, "company.csv has exactly one company row; this is an extra one")
            continue
        slug = row.value("slug", fields.slug, required=True)
        name = row.value("name", fields.text(200), required=True)
        currency = row.value("currency", fields.currency, required=True)
        review = row.value("categorize_review_threshold", fields.share) or DEFAULT_REVIEW_THRESHOLD
        given = row.value("categorize_auto_apply_threshold", fields.share)
        auto_apply = given or DEFAULT_AUTO_APPLY_THRESHOLD
        if auto_apply < review:
            row.problem("categorize_auto_apply_threshold", f"below categorize_review_threshold ({review})")
        target = row.value("categorize_target_precision", fields.share) or DEFAULT_TARGET_PRECISION
        if target < MIN_TARGET_PRECISION:
            row.problem(
                "categorize_target_precision", f"below {MIN_TARGET_PRECISION}: auto-apply would guess"
            )
        country = row.value("country", fields.country)
        valid = None
        if slug is not None and name is not None and currency is not None and row.ok:
            valid = CompanyRow(
                row.line, slug, name, currency, review, auto_apply, given is not None, target, country
            )
        company = CompanyCells(row.line, slug, currency, valid)
    if count == 0 and rows.complete:
        problems.add("company.csv", 0, WHOLE, "no company row; expected exactly one")
    return company


def read_teams(folder: Path, problems: Problems) -> Parsed[TeamRow] | None:
    rows = read_csv(folder, "teams.csv", TEAMS, problems)
    if rows is None:
        return None
    teams: Parsed[TeamRow] = Parsed()
    for row in rows:
        name = row.value("name", fields.text(200), required=True)
        parent = row.value("parent", fields.text(200))
        manager = row.value("manager_email", fields.email)
        cost_center = row.value("cost_center", fields.text(64))
        if name is not None and first_use(row, "name", name, teams.keys, f"team {name!r}"):
            if parent == name:
                row.problem("parent", "a team cannot be its own parent")
            if row.ok:
                teams.rows.append(TeamRow(row.line, name, parent, manager, cost_center))
    return teams if rows.complete else None


@dataclass
class Employees(Parsed[EmployeeRow]):
    # Every role written, even on rows with other problems (the policy's role:<role> steps need one).
    roles: set[str] = field(default_factory=set)


def read_employees(folder: Path, currency: str | None, problems: Problems) -> Employees | None:
    rows = read_csv(folder, "employees.csv", EMPLOYEES, problems)
    if rows is None:
        return None
    employees = Employees()
    for row in rows:
        email = row.value("email", fields.email, required=True)
        employee = _employee(row, email, currency)
        if role := fields.quietly(fields.role, row.raw("role")):
            employees.roles.add(role)
        unique = email is not None and first_use(row, "email", email, employees.keys, f"e-mail {email!r}")
        if unique and employee is not None and row.ok:
            employees.rows.append(employee)
    return employees if rows.complete else None


def _employee(row: Row, email: str | None, currency: str | None) -> EmployeeRow | None:
    name = row.value("name", fields.text(200), required=True)
    team = row.value("team", fields.text(200), required=True)
    manager = row.value("manager_email", fields.email)
    role = row.value("role", fields.role, required=True)
    limit = _approval_limit(row, currency)
    active = row.value("active", fields.boolean)
    away_from, away_until = _out_of_office(row)
    delegate = row.value("delegate_email", fields.email)
    if email is not None and manager == email:
        row.problem("manager_email", "an employee cannot be their own manager")
    if email is not None and delegate == email:
        row.problem("delegate_email", "an employee cannot be their own delegate")
    if email is None or name is None or team is None or role is None:
        return None
    active = True if active is None else active
    return EmployeeRow(
        row.line, email, name, team, manager, role, limit, active, away_from, away_until, delegate
    )


def _approval_limit(row: Row, currency: str | None) -> int | None:
    if currency is None:  # the company currency is bad: only the shape can be checked
        row.value("approval_limit", fields.decimal_text)
        return None
    limit = row.value("approval_limit", fields.amount(currency))
    if limit is not None and limit < 0:
        row.problem("approval_limit", "must not be negative")
    return limit


def _out_of_office(row: Row) -> tuple[dt.date | None, dt.date | None]:
    away_from = row.value("out_of_office_from", fields.date)
    away_until = row.value("out_of_office_until", fields.date)
    if row.raw("out_of_office_from") and not row.raw("out_of_office_until"):
        row.problem("out_of_office_until", "required when out_of_office_from is given")
    if row.raw("out_of_office_until") and not row.raw("out_of_office_from"):
        row.problem("out_of_office_from", "required when out_of_office_until is given")
    if away_from is not None and away_until is not None and away_until < away_from:
        row.problem("out_of_office_until", f"{away_until} is before out_of_office_from ({away_from})")
    return away_from, away_until


def read_categories(
    folder: Path, problems: Problems, *, file: str = "categories.csv"
) -> Parsed[CategoryRow] | None:
    rows = read_csv(folder, file, CATEGORIES, problems)
    if rows is None:
        return None
    categories: Parsed[CategoryRow] = Parsed()
    for row in rows:
        code = row.value("code", fields.text(64), required=True)
        name = row.value("name", fields.text(200), required=True)
        parent = row.value("parent_code", fields.text(64))
        gl_account = row.value("gl_account", fields.text(64))
        vat_rate = row.value("vat_rate", fields.vat_rate_bp)
        description = row.value("description", fields.text(10_000))
        mcc_codes = row.value("mcc_codes", fields.mcc_list) or ()
        if code is None or not first_use(row, "code", code, categories.keys, f"category code {code!r}"):
            continue
        if parent == code:
            row.problem("parent_code", "a category cannot be its own parent")
        if name is not None and row.ok:
            categories.rows.append(
                CategoryRow(row.line, code, name, parent, gl_account, vat_rate, description, mcc_codes)
            )
    return categories if rows.complete else None


def check_organization(
    teams: Parsed[TeamRow] | None,
    employees: Parsed[EmployeeRow] | None,
    categories: Parsed[CategoryRow] | None,
    problems: Problems,
) -> None:
    """References between the three files, then cycles in each hierarchy."""
    names, emails, codes = keys_of(teams), keys_of(employees), keys_of(categories)
    for team in _rows(teams):
        check = partial(report_reference, problems, "teams.csv", team.line)
        check("parent", team.parent, "team", names)
        check("manager_email", team.manager_email, "employee", emails)
    for person in _rows(employees):
        check = partial(report_reference, problems, "employees.csv", person.line)
        check("team", person.team, "team", names)
        check("manager_email", person.manager_email, "employee", emails)
        check("delegate_email", person.delegate_email, "employee", emails)
    for category in _rows(categories):
        report_reference(
            problems, "categories.csv", category.line, "parent_code", category.parent_code, "category", codes
        )
    hierarchies = (
        ("teams.csv", "parent", "the team hierarchy", teams, {t.name: t.parent for t in _rows(teams)}),
        (
            "employees.csv",
            "manager_email",
            "the management chain",
            employees,
            {p.email: p.manager_email for p in _rows(employees)},
        ),
        (
            "categories.csv",
            "parent_code",
            "the category hierarchy",
            categories,
            {c.code: c.parent_code for c in _rows(categories)},
        ),
    )
    for file, column, what, parsed, links in hierarchies:
        if parsed is not None:
            _report_cycles(problems, file, column, what, links, parsed.keys)


def keys_of(parsed: Parsed[Any] | None) -> dict[str, int] | None:
    return None if parsed is None else parsed.keys


def _rows(parsed: Parsed[R] | None) -> list[R]:
    return [] if parsed is None else parsed.rows


def _report_cycles(
    problems: Problems, file: str, column: str, what: str, links: dict[str, str | None], lines: dict[str, int]
) -> None:
    """Self-references are reported as such on their row; each longer cycle once, on its first row."""
    parents = {child: parent for child, parent in links.items() if parent is not None and parent != child}
    for cycle in find_cycles(parents):
        problems.add(file, lines[cycle[0]], column, f"{what} has a cycle: {describe_cycle(cycle)}")
