"""The in-memory shapes the demo generator passes between its stages.

People and teams refer to each other by natural key (email, team name), the same keys the CSV files
use, so nothing here needs object cycles and every stage can be tested on plain values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    name: str
    parent: str | None
    gl_account: str
    vat_rate: str
    description: str
    mcc_codes: tuple[str, ...]
    # Categories a hurried human plausibly picks instead of this one (the labelling noise).
    confusable: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Merchant:
    name: str
    mcc: str
    # The category a careful bookkeeper gives a typical charge here.
    category: str
    slots: tuple[str, ...]
    # Typical charge in EUR; amounts are lognormal around it, converted to the local currency.
    median: float
    sigma: float
    descriptors: tuple[str, ...]
    # "*" anywhere, else a space-separated list of country codes ("DE GB") or city codes ("MUC").
    where: str = "*"
    # The currency the merchant bills in whatever the spender's location (US SaaS bills USD).
    currency: str | None = None
    weight: float = 1.0
    refundable: bool = False


@dataclass(frozen=True, slots=True)
class City:
    code: str
    name: str
    country: str
    currency: str
    # Typical hotel night in EUR: London and New York cost more than Hanover.
    hotel_night: float


@dataclass(slots=True)
class Team:
    name: str
    parent: str | None
    cost_center: str
    profile: str
    home: str
    manager_email: str | None = None


# eq=False: people are compared and hashed by identity (there is exactly one object per person).
@dataclass(slots=True, eq=False)
class Person:
    email: str
    name: str
    team: str
    role: str
    home: str
    start: dt.date
    manager_email: str | None = None
    approval_limit_minor: int | None = None
    # Last working day for leavers (inactive in employees.csv); None for current staff.
    end: dt.date | None = None
    ooo_from: dt.date | None = None
    ooo_until: dt.date | None = None
    delegate_email: str | None = None
    # Personal spending habit: some people simply expense more than others.
    intensity: float = 1.0

    @property
    def active(self) -> bool:
        return self.end is None

    def employed_on(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    def away_on(self, day: dt.date) -> bool:
        return (
            self.ooo_from is not None
            and self.ooo_until is not None
            and self.ooo_from <= day <= self.ooo_until
        )


@dataclass(slots=True)
class Org:
    teams: list[Team]
    people: list[Person]
    by_email: dict[str, Person] = field(default_factory=dict)
    by_team: dict[str, Team] = field(default_factory=dict)
    members: dict[str, list[Person]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_email = {p.email: p for p in self.people}
        self.by_team = {t.name: t for t in self.teams}
        self.members = {t.name: [] for t in self.teams}
        for person in self.people:
            self.members[person.team].append(person)

    def with_role(self, role: str) -> list[Person]:
        return [p for p in self.people if p.role == role]


@dataclass(slots=True)
class Spend:
    """One card line or reimbursement, from generation until it is written as an expenses.csv row."""

    date: dt.date
    person: Person
    merchant: Merchant
    descriptor: str
    amount_minor: int
    currency: str
    amount_company_minor: int
    category: str
    memo: str = ""
    payment_type: str = "card"
    # Billed under a standing contract or campaign budget (subscriptions, ad platforms): no approval
    # request of its own, and usually categorized by a rule.
    contracted: bool = False
    status: str = "pending"
    category_code: str = ""
    category_source: str = ""
    receipt: bool = False
    ref: str = ""
    # Where it was spent (ISO alpha-2); empty: the company's country (online services, contracts).
    country: str = ""
