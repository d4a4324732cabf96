"""How each kind of team spends: charges per person per month by slot, trips, and where they go.

`personal` slots are charged by everyone on their own card. `shared` slots are team spend (ads,
job ads, team events, the lab's facilities) charged by the team's card holders: the head and leads,
at a rate per team member. A slot names the merchants that can serve it (see `merchants`).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Profile:
    personal: dict[str, float]
    trips: float  # business trips per person per month (conferences come on top)
    destinations: dict[str, float]
    shared: dict[str, float] = field(default_factory=dict)
    client_facing: bool = False


_DE_CLIENTS = {"HAM": 3, "FRA": 3, "STR": 4, "CGN": 2, "BER": 2, "MUC": 2, "NUE": 1}
_EU_CLIENTS = {"PAR": 2, "MIL": 2, "VIE": 2, "AMS": 1.5, "BCN": 1, "LON": 2, "DUB": 0.5}
_US_CLIENTS = {"DTW": 1, "CHI": 1, "BOS": 0.7, "NYC": 0.7, "SJC": 0.5}
_TEAM = {"team_event": 0.04}

# fmt: off
PROFILES: dict[str, Profile] = {
    "exec": Profile(
        {"meal": 2.4, "meal_client": 2.5, "ground": 2.0, "telecom": 0.4, "services": 0.1, "misc": 0.25},
        0.55, {"BER": 2, "FRA": 2, "LON": 2, "PAR": 1, "NYC": 1.5, "SFO": 1.5, "BOS": 1, "VIE": 1},
        {**_TEAM, "memberships": 0.15}, client_facing=True),
    "engineering": Profile(
        {"meal": 4.0, "meal_client": 0.05, "ground": 0.7, "office": 0.25, "hardware": 0.35,
         "components": 0.15, "training": 0.35, "telecom": 0.15, "shipping": 0.05, "software": 0.45,
         "cloud": 0.3, "misc": 0.05},
        0.08, {"BER": 3, "MUC": 2, "AMS": 1, "LON": 1, "SFO": 0.5, "STR": 1}, _TEAM),
    "hardware": Profile(
        {"meal": 3.6, "ground": 0.6, "components": 2.2, "shipping": 0.35, "hardware": 0.3, "office": 0.2,
         "training": 0.25, "software": 0.2, "vehicle": 0.05, "misc": 0.05},
        0.12, {"STR": 3, "NUE": 2, "HAM": 1, "CGN": 1, "MIL": 1, "DTW": 0.5, "SJC": 0.5}, _TEAM),
    "product": Profile(
        {"meal": 3.8, "ground": 0.8, "training": 0.4, "software": 0.6, "hardware": 0.3, "office": 0.2,
         "meal_client": 0.15, "telecom": 0.1},
        0.12, {**_DE_CLIENTS, "BER": 4, "LON": 1}, _TEAM),
    "sales": Profile(
        {"meal": 3.2, "meal_client": 2.0, "ground": 1.9, "telecom": 0.4, "office": 0.15, "shipping": 0.25,
         "hardware": 0.15, "training": 0.15, "misc": 0.15},
        0.6, {**_DE_CLIENTS, **_EU_CLIENTS, **_US_CLIENTS}, _TEAM, client_facing=True),
    "marketing": Profile(
        {"meal": 3.2, "meal_client": 0.4, "ground": 0.9, "software": 0.4, "office": 0.25, "training": 0.2,
         "telecom": 0.15, "misc": 0.1},
        0.22, {"BER": 3, "LON": 2, "PAR": 1, "AMS": 1, "BCN": 1, "NYC": 1},
        {**_TEAM, "ads": 1.3, "promo": 0.5}, client_facing=True),
    "finance": Profile(
        {"meal": 2.9, "ground": 0.5, "office": 0.35, "software": 0.2, "training": 0.25, "services": 0.35},
        0.06, {"FRA": 2, "BER": 2, "LON": 1}, {**_TEAM, "memberships": 0.05}),
    "people": Profile(
        {"meal": 2.9, "ground": 0.6, "office": 0.4, "training": 0.5, "misc": 0.2},
        0.08, {"BER": 3, "MUC": 2, "LON": 1}, {"team_event": 0.1, "recruiting": 1.2, "facilities": 0.3}),
    "it": Profile(
        {"meal": 3.2, "ground": 0.5, "hardware": 1.6, "software": 0.8, "cloud": 0.4, "telecom": 0.5,
         "shipping": 0.3, "office": 0.2},
        0.06, {"BER": 3, "MUC": 2, "LON": 1}, _TEAM),
    "ops": Profile(
        {"meal": 3.4, "ground": 0.8, "vehicle": 1.0, "components": 0.8, "shipping": 1.2, "office": 0.3,
         "hardware": 0.1},
        0.3, {**_DE_CLIENTS, "MIL": 1, "VIE": 1}, {**_TEAM, "facilities": 0.5}),
    "support": Profile(
        {"meal": 3.4, "meal_client": 0.5, "ground": 1.3, "telecom": 0.3, "shipping": 0.4, "vehicle": 0.5,
         "office": 0.1, "training": 0.2},
        0.3, {**_DE_CLIENTS, **_EU_CLIENTS, "DTW": 0.5, "CHI": 0.5}, _TEAM, client_facing=True),
    "legal": Profile(
        {"meal": 2.9, "ground": 0.5, "services": 1.0, "training": 0.3, "office": 0.2},
        0.1, {"FRA": 2, "BER": 1, "PAR": 1, "LON": 1}, {**_TEAM, "memberships": 0.1}),
}
# fmt: on
