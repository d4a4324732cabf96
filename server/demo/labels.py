"""What the books say about each charge: status, receipt, and the category someone gave it.

- The last three weeks are not categorized yet (the backlog the categorizer works on), plus a few
  older lines somebody skipped.
- Most categories were set by people, with ~3% plausible mistakes (client dinner booked as a meal,
  a conference ticket as training); contract charges and airlines/rail/hotels partly by a rule.
- Old charges are approved (reimbursements: reimbursed), recent ones mostly pending; a charge behind
  an approval request follows the request. Receipts are usually there, less so for recent lines.
"""

from __future__ import annotations

import datetime as dt
import random

from server.demo.categories import BY_CODE
from server.demo.model import Spend
from server.demo.timeline import rng_for

BACKLOG_DAYS = 21
STRAGGLER_SHARE = 0.006
NOISE_SHARE = 0.03
RULE_SHARE_CONTRACTED = 0.7
# Merchant rules ("LUFTHANSA* -> Flights") cover part of the unambiguous categories; rules make no mistakes.
_RULE_SHARE = {"TRAVEL-AIR": 0.35, "TRAVEL-RAIL": 0.35, "TRAVEL-HOTEL": 0.3, "CLOUD": 0.3, "TELECOM": 0.25}


class Labeller:
    def __init__(self, seed: int, today: dt.date) -> None:
        self._rng: random.Random = rng_for(seed, "labels")
        self._today = today

    def label(self, spend: Spend, request_status: str | None) -> None:
        age = (self._today - spend.date).days
        self._categorize(spend, age)
        spend.status = self._status(spend, age, request_status)
        spend.receipt = self._receipt(spend, age)

    def _categorize(self, spend: Spend, age: int) -> None:
        rng = self._rng
        if age < BACKLOG_DAYS or rng.random() < STRAGGLER_SHARE:
            return  # uncategorized: empty category_code and category_source
        rule_share = RULE_SHARE_CONTRACTED if spend.contracted else _RULE_SHARE.get(spend.category, 0.0)
        if rule_share and rng.random() < rule_share:
            spend.category_code, spend.category_source = spend.category, "rule"
            return
        code = spend.category
        confusable = BY_CODE[code].confusable
        if confusable and rng.random() < NOISE_SHARE:
            code = rng.choice(confusable)
        spend.category_code, spend.category_source = code, "human"

    def _status(self, spend: Spend, age: int, request_status: str | None) -> str:
        if request_status in ("rejected", "pending"):
            return request_status
        rng = self._rng
        settled = "reimbursed" if spend.payment_type == "reimbursement" and age >= 10 else "approved"
        if request_status == "approved":
            return settled
        # Chance that nobody has approved it yet, by age: a week, three weeks, six weeks, older.
        if age >= 45:
            waiting = 0.004
        elif age >= BACKLOG_DAYS:
            waiting = 0.15
        elif age >= 7:
            waiting = 0.45
        else:
            waiting = 0.85
        return "pending" if rng.random() < waiting else settled

    def _receipt(self, spend: Spend, age: int) -> bool:
        if spend.contracted or spend.payment_type == "invoice":
            chance = 0.98
        elif age < BACKLOG_DAYS:
            chance = 0.7
        elif abs(spend.amount_company_minor) < 1500:
            chance = 0.85
        else:
            chance = 0.96
        return self._rng.random() < chance
