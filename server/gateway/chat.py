"""`ModelGateway.converse`: one step of an agent's conversation, where the model picks its tools.

budget → circuit → guarded attempts under the deadline → accounting. Unlike `structured`, no response
cache and no redaction: an agent must read the tool results exactly as the server gave them (a name
turned into <NAME_1> is a name it can no longer look up or report), and each step of a conversation
differs from the last, so a cache would only hold answers nobody asks for again. Replaying a
conversation is the recorder's job (evals/harness/recording.py), deliberately and per trial.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING

from server.gateway.accounting import Accounting, CallRecord
from server.gateway.errors import NotConfigured
from server.gateway.messages import Chat, ChatReply, ModelTurn
from server.gateway.resilience import Deadline, Guard, within

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

    def __init__(self, llm: tuple[LLMClient, Guard] | None, accounting: Accounting) -> None:
        self._llm, self._accounting = llm, accounting
        self.provider, self.model = (llm[0].provider, llm[0].model) if llm else ("none", "-")

    async def ask(self, chat: Chat, *, company: str, deadline: float, label: str) -> ChatAnswer:
        record = CallRecord("llm", self.provider, self.model, company, template=label)
        with self._accounting.recording(record):
            self.ready(company)
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

    def ready(self, company: str) -> None:
        """Refuses a call that must not reach the provider: none configured, budget spent, circuit open."""
        if self._llm is None:
            raise NotConfigured("no LLM provider is configured (OUTLAY_GATEWAY__PROVIDER)")
        self._accounting.budget.check(company)
        self._llm[1].breaker.check()

    async def send(self, chat: Chat, record: CallRecord, deadline: Deadline) -> ChatReply:
        """One request, retried by the guard within `deadline`; its tokens go on `record`."""
        assert self._llm is not None, "ready() first"
        client, guard = self._llm
        on_retry = partial(self._accounting.retried, record)
        reply = await guard.run(partial(client.chat, chat), deadline, on_retry)
        self._accounting.used_tokens(record, reply.input_tokens, reply.output_tokens)
        return reply
