"""Acme's expense policy (`expense_policy.json`), what `review_expenses` checks the demo against.

Amounts in EUR. The patterns' settings are written out (most are the defaults) so that a reader of
the answer key sees every threshold in one file. The approval thresholds that `just_below_threshold`
and `split_purchases` use are the approval policy's own (`approval_policy.json`): none given here.
"""

from __future__ import annotations

from typing import Any

MEAL_CAPS = {"GB": "90", "US": "100", "CH": "110"}  # per expense; the rest of the world: 75
MEAL_DAY_CAPS = {"GB": "140", "US": "160", "CH": "170"}  # a person's meals of a day; elsewhere: 120
HOTEL_CAPS = {"GB": "1200", "US": "1300", "CH": "1200"}  # one folio; elsewhere: 1,000
CARD_LIMIT = "1000"  # a single charge on an employee card
RECEIPT_ABOVE = "150"
BLOCKED_MCCS = ("6010", "6011", "6051", "7995", "7273", "5933")
BLOCKED_MERCHANTS = ("casino", "sportwetten")
WEEKEND_CATEGORIES = ("OFFICE", "PROFESSIONAL-SERVICES", "FACILITIES", "MEMBERSHIPS")
ALCOHOL = ("beer", "wine", "champagne", "prosecco", "whisky", "vodka", "cocktails", "spirits", "liquor")

EXPENSE_POLICY: dict[str, Any] = {
    "currency": "EUR",
    "rules": [
        {
            "id": "receipt-over-150",
            "kind": "receipt_required",
            "above": RECEIPT_ABOVE,
            "description": "Every expense over 150 EUR needs its receipt.",
        },
        {
            "id": "meals-per-expense",
            "kind": "cap",
            "per": "expense",
            "categories": ["MEALS"],
            "amount": "75",
            "countries": MEAL_CAPS,
            "description": "A meal costs at most 75 EUR (London 90, the US 100, Switzerland 110).",
        },
        {
            "id": "meals-per-day",
            "kind": "cap",
            "per": "day",
            "categories": ["MEALS"],
            "amount": "120",
            "countries": MEAL_DAY_CAPS,
            "description": "A person's meals of one day cost at most 120 EUR (more abroad).",
        },
        {
            "id": "lodging-per-stay",
            "kind": "cap",
            "per": "expense",
            "categories": ["TRAVEL-HOTEL"],
            "amount": "1000",
            "countries": HOTEL_CAPS,
            "severity": "medium",
            "description": "A hotel folio over 1,000 EUR (1,200 in London) needs finance's sign-off.",
        },
        {
            "id": "no-cash-or-gambling",
            "kind": "blocked",
            "mccs": list(BLOCKED_MCCS),
            "merchants": list(BLOCKED_MERCHANTS),
            "severity": "high",
            "description": "No cash withdrawals, quasi-cash, gambling, dating or pawn shops on the card.",
        },
        {
            "id": "no-weekend-office-spend",
            "kind": "weekend_spend",
            "categories": list(WEEKEND_CATEGORIES),
            "holidays": True,
            "description": "Office, facilities, services and dues are bought on working days.",
        },
        {
            "id": "alcohol",
            "kind": "keywords",
            "keywords": list(ALCOHOL),
            "description": "Alcohol is not reimbursed, client entertainment included.",
        },
        {
            "id": "just-below-approval",
            "kind": "just_below_threshold",
            "margin_percent": "5",
            "description": "Amounts just under an approval threshold are looked at twice.",
        },
    ],
    "patterns": {
        "duplicates": {"window_days": 3},
        "split_purchases": {"window_days": 3, "card_limit": CARD_LIMIT},
        "spikes": {"min_history": 8, "factor": "10"},
        "new_merchant": {"first_charge_above": "1000"},
        "round_numbers": {"multiple": "50", "min_run": 3, "window_days": 30},
        "refunds": {"lookback_days": 120},
    },
}
