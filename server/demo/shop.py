"""Turning "someone spent at a merchant" into a priced, described charge (and sometimes its refund).

All per-row work of the generator goes through `Shop.charge`, so it is kept cheap: merchant pools are
computed once per (slot, city), amounts are one lognormal draw, and Decimal is only used for the
foreign-currency conversion.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable

from server.demo.descriptors import render
from server.demo.fx import from_eur, to_company_minor
from server.demo.memos import REFUND_MEMOS
from server.demo.model import City, Merchant, Person, Spend

# Paid privately and claimed back, rather than on the company card.
_REIMBURSABLE = frozenset({"meal", "meal_client", "ground", "vehicle", "misc", "rail"})
_REIMBURSED_SHARE = 0.08
# Big one-off purchases arrive as invoices; travel is still booked on the card.
_INVOICE_FROM_EUR = 5000.0
_CARD_ONLY = frozenset({"air", "hotel", "laptop"})
_REFUND_CHANCE = 0.04


class Shop:
    def __init__(self, rng: random.Random, merchants: Iterable[Merchant]) -> None:
        self._rng = rng
        self._by_slot: dict[str, list[Merchant]] = {}
        for merchant in merchants:
            for slot in merchant.slots:
                self._by_slot.setdefault(slot, []).append(merchant)
        self._pools: dict[tuple[str, str], tuple[list[Merchant], list[float]]] = {}

    def pool(self, slot: str, *places: City) -> tuple[list[Merchant], list[float]]:
        """Merchants of a slot found in any of `places` (a city or its country), with cumulative weights."""
        key = (slot, "/".join(place.code for place in places))
        cached = self._pools.get(key)
        if cached is None:
            tokens = {token for place in places for token in (place.code, place.country)}
            found = [
                m for m in self._by_slot.get(slot, []) if m.where == "*" or tokens & set(m.where.split())
            ]
            cumulative, total = [], 0.0
            for merchant in found:
                total += merchant.weight
                cumulative.append(total)
            cached = self._pools[key] = (found, cumulative)
        return cached

    def pick(self, slot: str, *places: City) -> Merchant | None:
        merchants, cumulative = self.pool(slot, *places)
        if not merchants:
            return None
        return self._rng.choices(merchants, cum_weights=cumulative)[0]

    def charge(
        self,
        person: Person,
        merchant: Merchant,
        city: City,
        day: dt.date,
        *,
        eur: float | None = None,
        slot: str = "",
        category: str | None = None,
        memo: str = "",
    ) -> Spend:
        rng = self._rng
        amount_eur = (eur if eur is not None else merchant.median) * rng.lognormvariate(0, merchant.sigma)
        currency = merchant.currency or city.currency
        minor = max(50, round(from_eur(amount_eur, currency) * 100))
        templates = merchant.descriptors
        template = templates[0] if len(templates) == 1 or rng.random() < 0.5 else rng.choice(templates)
        return Spend(
            date=day,
            person=person,
            merchant=merchant,
            descriptor=render(template, merchant.name, city, rng),
            amount_minor=minor,
            currency=currency,
            amount_company_minor=to_company_minor(minor, currency),
            category=category or merchant.category,
            memo=memo,
            payment_type=self._payment_type(slot, amount_eur),
            country=city.country,
        )

    def _payment_type(self, slot: str, amount_eur: float) -> str:
        if slot in _REIMBURSABLE and self._rng.random() < _REIMBURSED_SHARE:
            return "reimbursement"
        if amount_eur >= _INVOICE_FROM_EUR and slot not in _CARD_ONLY and self._rng.random() < 0.8:
            return "invoice"
        return "card"

    def maybe_refund(self, spend: Spend, today: dt.date) -> Spend | None:
        """Cancelled bookings and returned goods: the same merchant line again, negative, weeks later."""
        if not spend.merchant.refundable or self._rng.random() >= _REFUND_CHANCE:
            return None
        day = spend.date + dt.timedelta(days=self._rng.randint(3, 28))
        if day > today:
            return None
        share = 1.0 if self._rng.random() < 0.65 else self._rng.uniform(0.2, 0.7)
        minor = -max(1, round(spend.amount_minor * share))
        return Spend(
            date=day,
            person=spend.person,
            merchant=spend.merchant,
            descriptor=spend.descriptor,
            amount_minor=minor,
            currency=spend.currency,
            amount_company_minor=to_company_minor(minor, spend.currency),
            category=spend.category,
            memo=self._rng.choice(REFUND_MEMOS) if self._rng.random() < 0.5 else "",
            payment_type=spend.payment_type,
            country=spend.country,
        )
