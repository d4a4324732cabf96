"""Running the stages for a call: rules, model (on the model server when configured) and MCC
(`pipeline.py`), people's corrections since the model was trained (`corrections.py`), then the LLM,
through the gateway, about the answers it may help with (`llm.py`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

import anyio

from server.gateway import GatewayError, NotConfigured, Redactor
from tools.categorize import corrections, llm, pipeline, queries, remote
from tools.categorize.books import Books
from tools.categorize.features import ExpenseFacts
from tools.categorize.model import Corrections

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from server.context import AppContext, Caller

log = logging.getLogger("outlay.categorize")
Progress = Callable[[float, float, str], Awaitable[None]]


async def decide(
    app: AppContext,
    caller: Caller,
    session: AsyncSession,
    books: Books,
    facts: Sequence[ExpenseFacts],
    amounts: Sequence[int],
    progress: Progress | None = None,
) -> list[pipeline.Decision]:
    """Rules, model (remote when configured), MCC prior, corrections; then the LLM where it may help."""
    found = await corrections.since_training(app, session, caller, books)
    scores, skipped = await _remote_probabilities(app, caller, books, facts, found)
    decisions = pipeline.decide(books.company, books.artifact, facts, scores, found)
    if skipped is not None:  # a company rule needs no model: only the other answers lost the served one
        decisions = [d if d.source == "rule" else d.skipping(skipped) for d in decisions]
    limit = app.settings.categorize_llm_calls
    return await consult_llm(app, caller, session, books, facts, amounts, decisions, limit, progress)


async def consult_llm(
    app: AppContext,
    caller: Caller,
    session: AsyncSession,
    books: Books,
    facts: Sequence[ExpenseFacts],
    amounts: Sequence[int],
    decisions: list[pipeline.Decision],
    limit: int,
    progress: Progress | None = None,
) -> list[pipeline.Decision]:
    """Ask the LLM about up to `limit` of the decisions it may help with (in place), when it is up."""
    asking = [i for i, d in enumerate(decisions) if llm.wants_llm(d)][:limit]
    unavailable = app.gateway.llm_unavailable
    if not asking or unavailable == NotConfigured.reason:  # no LLM at all is a choice, not a degradation
        return decisions
    if unavailable is not None:
        for index in asking:
            decisions[index] = llm.kept(decisions[index], unavailable)
        return decisions
    names = await queries.employee_names(session, caller.company_id)
    await _ask_llm(app, caller, books, facts, amounts, decisions, asking, Redactor(names), progress)
    return decisions


async def _remote_probabilities(
    app: AppContext, caller: Caller, books: Books, facts: Sequence[ExpenseFacts], found: Corrections | None
) -> tuple[pipeline.Scores | None, pipeline.Degradation | None]:
    """The served model's probabilities, when the company model runs remotely; None: compute locally.
    When the model server fails the in-process model is the fallback, and the second value says so."""
    # Corrections live in this process's tables: with some, the in-process model answers.
    if app.settings.categorize_model != "remote" or books.artifact is None or not facts or found:
        return None, None
    try:
        return await remote.probabilities(app.gateway, caller.company_slug, books.artifact, facts), None
    except (GatewayError, remote.WireError) as exc:
        reason = exc.reason if isinstance(exc, GatewayError) else "malformed"
        log.warning("model server gave no answer; using the in-process model", extra={"reason": reason})
        instead = "in-process model answered"
        return None, pipeline.Degradation.of("model_server", "model server unavailable", reason, instead)


async def _ask_llm(
    app: AppContext,
    caller: Caller,
    books: Books,
    facts: Sequence[ExpenseFacts],
    amounts: Sequence[int],
    decisions: list[pipeline.Decision],
    asking: Sequence[int],
    redactor: Redactor,
    progress: Progress | None,
) -> None:
    codes = sorted(books.categories)
    texts = [llm.CategoryText(c.code, c.name, c.description) for c in books.categories.values()]
    done = 0

    async def ask(index: int) -> None:
        nonlocal done
        inputs = llm.prompt_inputs(facts[index], texts, amounts[index], caller.currency)
        try:
            answer = await app.gateway.structured(
                llm.TEMPLATE,
                inputs,
                llm.LLMCategory,
                company=caller.company_slug,
                redactor=redactor,
                choices={"category": codes, "alternatives": codes},
            )
        except GatewayError as exc:
            log.info("LLM gave no answer; keeping the local one", extra={"reason": exc.reason})
            decisions[index] = llm.kept(decisions[index], exc.reason)
        else:
            decisions[index] = llm.combine(decisions[index], answer.value, codes, books.company.thresholds)
        done += 1
        if progress is not None:
            await progress(done, len(asking), f"asked the LLM about {done} of {len(asking)} unsure expenses")

    async with anyio.create_task_group() as group:
        for index in asking:
            group.start_soon(ask, index)
