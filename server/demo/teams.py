"""Acme's teams in the order a growing robotics company adds them.

A company of `employees` people gets the first `team_count(employees)` entries; every parent comes
before its children, so any prefix is a valid hierarchy. The profile says how the team spends
(see `profiles`), the home city where its people are based (and so which currency they spend in).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TeamSpec:
    name: str
    parent: str | None
    profile: str
    weight: float  # share of the headcount
    home: str = "MUC"


# fmt: off
TEAM_CATALOGUE: tuple[TeamSpec, ...] = (
    TeamSpec("Executive", None, "exec", 1.0),
    TeamSpec("Engineering", "Executive", "engineering", 8.0),
    TeamSpec("Hardware Engineering", "Executive", "hardware", 9.0),
    TeamSpec("Sales", "Executive", "sales", 3.0),
    TeamSpec("Finance", "Executive", "finance", 3.5),
    TeamSpec("Marketing", "Executive", "marketing", 5.0),
    TeamSpec("IT", "Executive", "it", 2.5),
    TeamSpec("Operations", "Executive", "ops", 8.0),
    TeamSpec("People", "Executive", "people", 3.0),
    TeamSpec("Platform", "Engineering", "engineering", 8.0, "BER"),
    TeamSpec("Sales DACH", "Sales", "sales", 7.0),
    TeamSpec("Sales UK", "Sales", "sales", 4.0, "LON"),
    TeamSpec("Customer Success", "Executive", "support", 5.0),
    TeamSpec("Product", "Executive", "product", 4.0),
    TeamSpec("Manufacturing", "Operations", "ops", 8.0),
    TeamSpec("Data & AI", "Engineering", "engineering", 6.0, "BER"),
    TeamSpec("Legal", "Executive", "legal", 1.5),
    TeamSpec("Field Service", "Customer Success", "support", 5.0),
    TeamSpec("Firmware", "Hardware Engineering", "hardware", 5.0),
    TeamSpec("Sales North America", "Sales", "sales", 4.0, "NYC"),
    TeamSpec("Supply Chain", "Operations", "ops", 4.0),
    TeamSpec("Perception", "Engineering", "engineering", 5.0),
    TeamSpec("Growth Marketing", "Marketing", "marketing", 3.0, "BER"),
    TeamSpec("Recruiting", "People", "people", 3.0),
    TeamSpec("Security", "IT", "it", 2.0),
    TeamSpec("Quality", "Operations", "ops", 3.0),
    TeamSpec("Design", "Product", "product", 2.5, "BER"),
    TeamSpec("Solutions Engineering", "Sales", "sales", 4.0),
    TeamSpec("Sales France", "Sales", "sales", 3.0, "PAR"),
    TeamSpec("Events & Brand", "Marketing", "marketing", 2.5),
    TeamSpec("Motion Control", "Hardware Engineering", "hardware", 5.0),
    TeamSpec("Simulation", "Engineering", "engineering", 4.0, "BER"),
    TeamSpec("Procurement", "Finance", "finance", 2.0),
    TeamSpec("Facilities", "Operations", "ops", 2.0),
    TeamSpec("Partnerships", "Sales", "sales", 2.0, "LON"),
    TeamSpec("Controlling", "Finance", "finance", 2.0),
    TeamSpec("Fleet Management", "Engineering", "engineering", 4.0),
    TeamSpec("Support", "Customer Success", "support", 5.0, "BER"),
    TeamSpec("Developer Relations", "Marketing", "marketing", 1.5, "BER"),
    TeamSpec("Workplace IT", "IT", "it", 2.0, "BER"),
)
# fmt: on


def team_count(employees: int) -> int:
    """About 12 teams at 250 people, growing slowly: ~6 at 40, ~34 at 5,000; at least 5."""
    scaled = round(12 * math.pow(employees / 250, 0.35))
    return max(5, min(len(TEAM_CATALOGUE), scaled))
