"""The corrections stage: what people said since the serving model was trained.

A person's correction (`recategorize_expense`) reaches the model's weights only at its next training,
where a corrected expense weighs more than an old booking. Until then the categorizer reads the
corrections themselves: for the merchants of a call, the expenses people corrected since training,
added to the model's history tables as if booked `correction_weight` times (`model.Corrections`). The
model then weighs them like any history, against what the same merchant, cost centre and team were
booked as before; an answer that follows them says so (`pipeline.py`, source `correction`).

Measured on real ledgers (docs/categorizer.md): this beats overruling the model with a merchant's
corrections, which on books where one merchant carries many categories (Amazon, supermarkets) turns one
team's correction into every team's mistake.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from server.kit.merchants import merchant_key
from tools.categorize import correction_queries
from tools.categorize.facts import by_ids, facts_of
from tools.categorize.model import Corrections

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from server.context import Caller
    from tools.categorize.books import Books
    from tools.categorize.features import ExpenseFacts


async def since_training(
    session: AsyncSession, caller: Caller, books: Books, items: Sequence[ExpenseFacts]
) -> Corrections | None:
    """The corrections of these expenses' merchants since the serving model was trained; None: none."""
    artifact = books.artifact
    keys = {artifact.key_of(f) if artifact else merchant_key(f.merchant or f.descriptor) for f in items}
    version = books.version.id if books.version else None
    found = await correction_queries.since_training(session, caller.company_id, keys, version)
    if not found:
        return None
    rows = {r.id: r for r in await by_ids(session, caller.company_id, list({i for i, _ in found}))}
    corrections = Corrections()
    for expense_id, code in found:
        if expense_id in rows:
            corrections.add(facts_of(rows[expense_id], caller.currency, books.parents), code)
    return corrections
