"""`ModelGateway.converse`: one step of an agent's conversation, where the model picks its tools.

circuit → tokens set aside → guarded attempts under the deadline → tokens settled → accounting.
Unlike `structured`, no response cache and no redaction: an agent must read the tool results exactly
as the server gave them (a name turned into <NAME_1> is a name it can no longer look up or report),
and each step of a conversation differs from the last, so a cache would only hold answers nobody asks
for again. Replaying a
conversation is the recorder's job (evals/harness/recording.py), deliberately and per trial.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING

import anyio

from server.gateway.accounting import Accounting, CallRecord
from server.gateway.errors import BudgetExhausted, BudgetUnreachable, NotConfigured
from server.gateway.messages import Chat, ChatReply, ModelTurn
from server.gateway.resilience import Deadline, Guard, within
from server.shared.kinds import Reservation, SharedStateUnavailable

if TYPE_CHECKING:
    from server.gateway.llm import LLMClient


@dataclass(frozen=True)
class ChatAnswer:
    """The model's turn, why it stopped (`end_turn`, `tool_use`, `max_tokens`, ...) and what it cost."""

    turn: ModelTurn
    stop_reason: str | None
    provider: str
    model: str
    retries: int
    input_tokens: int
    output_tokens: int
    cost_usd: Decimal
    latency_ms: float


class ChatCalls:
    """Answers `Chat`s with the LLM: budget, circuit, guarded attempts under the deadline, accounting.
    `StructuredCalls` sends its conversations through `ready` and `send` too."""

    def __init__(self, llm: tuple[LLMClient, Guard] | None, accounting: Accounting, max_tokens: int) -> None:
        self._llm, self._accounting, self._max_tokens = llm, accounting, max_tokens
        self.provider, self.model = (llm[0].provider, llm[0].model) if llm else ("none", "-")

    async def ask(self, chat: Chat, *, company: str, deadline: float, label: str) -> ChatAnswer:
        record = CallRecord("llm", self.provider, self.model, company, template=label)
        with self._accounting.recording(record):
            self.ready()
            with within(deadline, self.provider) as limit:
                reply = await self.send(chat, record, limit)
        return ChatAnswer(
            reply.turn,
            reply.stop_reason,
            self.provider,
            self.model,
            record.retries,
            record.input_tokens,
            record.output_tokens,
            record.cost_usd,
            record.latency_ms,
        )

    def ready(self) -> None:
        """Refuses a call that must not reach the provider: none configured, circuit open."""
        if self._llm is None:
            raise NotConfigured("no LLM provider is configured (OUTLAY_GATEWAY__PROVIDER)")
        self._llm[1].breaker.check()

    async def send(self, chat: Chat, record: CallRecord, deadline: Deadline) -> ChatReply:
        """One request, retried by the guard within `deadline`, within the company's token budget: a
        request's worth is set aside first and replaced by what it used; its tokens go on `record`."""
        assert self._llm is not None, "ready() first"
        client, guard = self._llm
        on_retry = partial(self._accounting.retried, record)
        reservation = await self._reserve(record.company, chat)
        used = 0
        try:
            reply = await guard.run(partial(client.chat, chat), deadline, on_retry)
            used = reply.input_tokens + reply.output_tokens
        finally:
            with anyio.CancelScope(shield=True):
                await self._accounting.budget.settle(reservation, used)
        self._accounting.used_tokens(record, reply.input_tokens, reply.output_tokens)
        return reply

    async def _reserve(self, company: str, chat: Chat) -> Reservation:
        budget = self._accounting.budget
        try:
            reservation = await budget.reserve(company, self.worth(chat))
        except SharedStateUnavailable:
            raise BudgetUnreachable("the shared LLM token budget (Redis) is unreachable") from None
        if reservation is None:
            raise BudgetExhausted(f"today's LLM token budget of {budget.limit} is used up for this company")
        return reservation

    def worth(self, chat: Chat) -> int:
        """What one request may cost at most, set aside before it is sent: the longest answer, and a
        character in three of the request as the provider will read it (Claude's tokens run three to
        four characters of English; `repr` adds field names, standing in for the tool-use preamble)."""
        return self._max_tokens + math.ceil(len(repr(chat)) / 3)
