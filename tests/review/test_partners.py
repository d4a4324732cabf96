"""A narrowed scope reads other payers' charges only at the (merchant, amount)s of its charges that they can
change a finding of (`queries._partnered`): the findings must be those of reading them at every one."""

from __future__ import annotations

import random

from tests.review.make import DAY, context, days, expense, policy
from tools.review.engine import review
from tools.review.findings import ReviewedExpense
from tools.review.queries import _pairs, _partnered

ON = {"enabled": True}
FLOOR, PARTNERS_FROM = 2_000, 10_000  # EUR: the duplicate floor, the cross-payer floor


def _charges(
    rng: random.Random, payers: list[tuple[str, str | None, str | None]], n: int
) -> list[ReviewedExpense]:
    found = []
    for _ in range(n):
        team, employee, card = rng.choice(payers)
        merchant = rng.randrange(1, 4)
        amount = rng.choice((1_500, 2_500, 3_000, 5_000, 9_900, 10_000, 12_000, 2_100_00, 4_000_00))
        found.append(
            expense(
                day=DAY + days(rng.randrange(-6, 20)),
                amount=amount,
                merchant_id=merchant,
                merchant=f"Merchant {merchant}",
                descriptor=rng.choice(("SHOP", "SHOP ONLINE")),
                team=team,
                employee=employee,
                card=card,
                category="TRAVEL",
            )
        )
    return found


def test_the_partners_left_out_change_no_finding() -> None:
    settings = policy(
        duplicates=ON,
        split_purchases={"enabled": True, "thresholds": ["5000"]},
        round_numbers=ON,
    )
    ours = [
        ("Sales", "ana@acme.test", None),
        ("Sales", "ben@acme.test", "1234"),
        ("Sales", None, "9876"),
        ("Sales", None, None),
    ]
    theirs = [("Ops", "cy@acme.test", None), ("Ops", "dee@acme.test", "5555"), ("Ops", None, None)]
    flagged = 0
    for seed in range(150):
        rng = random.Random(seed)
        mine = _charges(rng, ours, 40)
        scope = [e for e in mine if e.spent_on >= DAY]
        # The scope's payers' expenses outside it (by employee or card); the team's without either are
        # read as anyone's charges are.
        payers = [e for e in mine if e.spent_on < DAY and (e.employee or e.card)]
        others = _charges(rng, theirs, 60) + [
            e for e in mine if e.spent_on < DAY and not (e.employee or e.card)
        ]
        every = _pairs(scope, FLOOR)
        some = _pairs(_partnered(scope, payers, PARTNERS_FROM), FLOOR)
        assert some <= every
        full = [e for e in others if (e.merchant_id, e.original_minor) in every]
        lean = [e for e in others if (e.merchant_id, e.original_minor) in some]
        expected = review(scope, context(settings, history=tuple(payers + full)))
        assert review(scope, context(settings, history=tuple(payers + lean))) == expected, seed
        flagged += len(expected)
    assert flagged > 100
