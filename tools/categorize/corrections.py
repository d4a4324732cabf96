"""The corrections stage: what people said since the serving model was trained.

A person's correction (`recategorize_expense`) reaches the model's weights only at its next training,
where a corrected expense weighs more than an old booking. Until then the categorizer reads the
corrections themselves: the expenses people corrected since training, added to the model's history
tables as if booked `correction_weight` times (`model.Corrections`), under every key of the corrected
expense (its merchant, merchant and cost centre, merchant and team...). Each process keeps them, and
catches up with the new ones at each call. The
model then weighs them like any history, against what the same merchant, cost centre and team were
booked as before; an answer that follows them says so (`pipeline.py`, source `correction`).

Measured on real ledgers (docs/categorizer.md): this beats overruling the model with a merchant's
corrections, which on books where one merchant carries many categories (Amazon, supermarkets) turns one
team's correction into every team's mistake.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tools.categorize import correction_queries
from tools.categorize.facts import by_ids, facts_of
from tools.categorize.model import Corrections

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from server.context import AppContext, Caller
    from tools.categorize.books import Books

# Beyond this many corrections since training, the newest count (a retraining is due long before).
MAX_CORRECTIONS = 20_000


@dataclass
class Known:
    """A process's copy of a company's corrections since its serving model was trained, caught up at
    each call with the corrections written since (by id: corrections are only ever added)."""

    corrections: Corrections = field(default_factory=Corrections)
    ids: set[int] = field(default_factory=set)
    last_id: int = 0


async def since_training(
    app: AppContext, session: AsyncSession, caller: Caller, books: Books
) -> Corrections | None:
    """The company's corrections since the serving model was trained; None: none."""
    version = books.version.id if books.version else None
    key = ("corrections", caller.company_id, version)
    known = app.derived.get(key)
    if not isinstance(known, Known):
        known = Known()
    found = await correction_queries.since_training(
        session, caller.company_id, version, known.last_id, MAX_CORRECTIONS
    )
    if found:
        rows = {r.id: r for r in await by_ids(session, caller.company_id, list({e for _, e, _ in found}))}
        # No await from here on: calls of this process that caught up meanwhile are not counted twice.
        for correction_id, expense_id, code in found:
            if correction_id not in known.ids and expense_id in rows:
                known.corrections.add(facts_of(rows[expense_id], caller.currency, books.parents), code)
                known.ids.add(correction_id)
            known.last_id = max(known.last_id, correction_id)
    app.derived.put(key, known)
    return known.corrections if known.ids else None
