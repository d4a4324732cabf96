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
from server.gateway.messages import Chat, ModelTurn
from server.gateway.resilience import Guard, within

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
    """Answers `Chat`s with the LLM under the same guard, budget and accounting as structured answers."""

    def __init__(self, llm: tuple[LLMClient, Guard] | None, accounting: Accounting) -> None:
        self._llm, self._accounting = llm, accounting

    async def ask(self, chat: Chat, *, company: str, deadline: float, label: str) -> ChatAnswer:
        provider, model = (self._llm[0].provider, self._llm[0].model) if self._llm else ("none", "-")
        record = CallRecord("llm", provider, model, company, template=label)
        with self._accounting.recording(record):
            if self._llm is None:
                raise NotConfigured("no LLM provider is configured (OUTLAY_GATEWAY__PROVIDER)")
            client, guard = self._llm
            self._accounting.budget.check(company)
            guard.breaker.check()
            on_retry = partial(self._accounting.retried, record)
            with within(deadline, provider) as limit:
                reply = await guard.run(partial(client.chat, chat), limit, on_retry)
            self._accounting.used_tokens(record, reply.input_tokens, reply.output_tokens)
        return ChatAnswer(
            reply.turn,
            reply.stop_reason,
            provider,
            model,
            record.retries,
            record.input_tokens,
            record.output_tokens,
            record.cost_usd,
            record.latency_ms,
        )
