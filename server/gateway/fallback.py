"""Fallback chains: a caller declares where answers come from, best first, and a last resort that
always answers. The result says which link answered and why each earlier one was skipped.

    chain = FallbackChain(
        [Link("llm", ask_llm), Link("model", predict_locally), Link("rules", apply_rules)],
        last_resort=LastResort("needs_review", lambda skipped: Suggestion.needs_review()),
    )
    result = await chain.run()   # result.value, result.source == "model", result.skipped[0].reason

A link skips by raising `Decline("confidence 0.41 below 0.6")` or any `GatewayError` (unavailable,
deadline, invalid answer...). Any other exception is a bug: it is logged with its traceback and the
link skipped, so that a broken link degrades the answer instead of failing the tool call.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from server.gateway.errors import GatewayError

T = TypeVar("T")
log = logging.getLogger("outlay.gateway")


class Decline(Exception):
    """A link has no answer it stands behind; the message says why (it becomes the skip reason)."""


@dataclass(frozen=True)
class Skip:
    link: str
    reason: str


@dataclass(frozen=True)
class Link(Generic[T]):
    name: str
    answer: Callable[[], Awaitable[T]]


@dataclass(frozen=True)
class LastResort(Generic[T]):
    """Answers from what is known without any model: it cannot fail, and sees why the links skipped."""

    name: str
    answer: Callable[[Sequence[Skip]], T]


@dataclass(frozen=True)
class ChainResult(Generic[T]):
    value: T
    source: str
    skipped: tuple[Skip, ...]


class FallbackChain(Generic[T]):
    def __init__(self, links: Sequence[Link[T]], *, last_resort: LastResort[T]) -> None:
        names = [link.name for link in links] + [last_resort.name]
        if len(set(names)) != len(names):
            raise ValueError(f"link names must be distinct: {names}")
        self.links = tuple(links)
        self.last_resort = last_resort

    async def run(self) -> ChainResult[T]:
        skipped: list[Skip] = []
        for link in self.links:
            try:
                return ChainResult(await link.answer(), link.name, tuple(skipped))
            except Decline as exc:
                skipped.append(Skip(link.name, f"declined: {exc}"))
            except GatewayError as exc:
                skipped.append(Skip(link.name, f"{exc.reason}: {exc}"))
            except Exception as exc:
                log.exception("fallback link failed", extra={"link": link.name})
                skipped.append(Skip(link.name, f"error: {type(exc).__name__}"))
        return ChainResult(self.last_resort.answer(skipped), self.last_resort.name, tuple(skipped))
