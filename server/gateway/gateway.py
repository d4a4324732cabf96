"""`ModelGateway`: the one object through which tools call models. The runtime opens one per process."""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from opentelemetry import metrics
from opentelemetry.metrics import MeterProvider
from pydantic import BaseModel

from server.gateway.accounting import Accounting, CallRecord
from server.gateway.answers import AnswerSpec
from server.gateway.chat import ChatAnswer, ChatCalls
from server.gateway.errors import CircuitOpen, NotConfigured
from server.gateway.messages import Chat, ChatTurn, Tool
from server.gateway.prompts import PromptLibrary
from server.gateway.redaction import Redactor
from server.gateway.resilience import CircuitState, Guard, within
from server.gateway.serving import InferRequest, InferResponse, ServingClient, Tensor
from server.gateway.structured import Question, StructuredAnswer, StructuredCalls
from server.settings.gateway import GatewaySettings
from server.shared.kinds import AnswerCache, TokenBudget
from server.shared.memory import ResponseCache, utc_today

if TYPE_CHECKING:
    from server.gateway.llm import LLMClient

A = TypeVar("A", bound=BaseModel)
log = logging.getLogger("outlay.gateway")


class ModelGateway:
    """LLM and model-serving calls with deadlines, retries, circuits, redaction, budget and accounting.

    `meters` defaults to the process's OpenTelemetry meter provider; tests pass their own, with `clock`
    (monotonic seconds, for circuits and the cache), `today` (for the budget) and `rng` (for jitter).
    `budget` and `cache` are the process's shared state (`server.shared`, on Redis when configured);
    without them, both are kept in this object.
    """

    def __init__(
        self,
        settings: GatewaySettings,
        *,
        meters: MeterProvider | None = None,
        clock: Callable[[], float] = time.monotonic,
        today: Callable[[], dt.date] = utc_today,
        rng: random.Random | None = None,
        budget: TokenBudget | None = None,
        cache: AnswerCache | None = None,
    ) -> None:
        self.settings = settings
        self.accounting = Accounting(settings, meters or metrics.get_meter_provider(), today, budget)
        guard = partial(Guard, settings=settings, clock=clock, rng=rng)
        self._llm = _open_llm(settings, guard(settings.provider)) if settings.provider != "none" else None
        self._serving: tuple[ServingClient, Guard] | None = None
        if settings.serving_url:
            self._serving = (ServingClient(settings, settings.serving_url), guard(ServingClient.provider))
        for _, watched in filter(None, (self._llm, self._serving)):
            self.accounting.watch(watched.breaker)
        cache = cache or ResponseCache(settings.cache_ttl_seconds, settings.cache_max_entries, clock)
        self._chats = ChatCalls(self._llm, self.accounting, settings.max_tokens)
        self._structured = StructuredCalls(self._chats, cache, self.accounting)
        self._prompts = PromptLibrary(settings.prompts_dir)
        self._anonymous = Redactor()

    async def aclose(self) -> None:
        if self._llm:
            await self._llm[0].aclose()
        if self._serving:
            await self._serving[0].aclose()

    async def structured(
        self,
        template: str,
        inputs: Mapping[str, object],
        answer: type[A],
        *,
        company: str,
        redactor: Redactor | None = None,
        choices: Mapping[str, Sequence[str]] | None = None,
        deadline: float | None = None,
        restore: bool = True,
    ) -> StructuredAnswer[A]:
        """Ask the LLM the question in `prompts/templates/<template>.md`, filled with `inputs` (each
        `str()`-ed, then redacted), and get an instance of `answer` back.

        `choices` closes string fields (or lists of strings) to the given values, as JSON-schema enums.
        `redactor` knows the company's employee names; without one only patterns are redacted.
        `deadline` (seconds, default `deadline_seconds`) bounds the whole call, retries and repair
        included. `restore` puts redacted values back into the answer's strings.
        Raises a `GatewayError` when there is no usable answer: degrade, do not fail.
        """
        redaction = (redactor or self._anonymous).session()
        spec = AnswerSpec(answer, choices)
        question = Question.build(self._prompts.get(template), inputs, spec, company, redaction)
        seconds = deadline or self.settings.deadline_seconds
        return await self._structured.ask(question, deadline=seconds, restore=restore)

    async def converse(
        self,
        system: str,
        turns: Sequence[ChatTurn],
        tools: Sequence[Tool] = (),
        *,
        company: str,
        deadline: float | None = None,
        label: str = "converse",
    ) -> ChatAnswer:
        """One step of an agent's conversation: the model answers `turns` with prose and/or calls to
        any of `tools` (`ModelTurn.tool_uses`); the caller runs them and sends `ToolResults` back in the
        next step. No cache and no redaction (see `server.gateway.chat`); retries, deadline, circuit,
        budget and accounting as for `structured`. `label` names the call in the log line and metrics.
        Raises a `GatewayError` when the provider gives no answer.
        """
        chat = Chat(system, tuple(turns), tuple(tools))
        seconds = deadline or self.settings.deadline_seconds
        return await self._chats.ask(chat, company=company, deadline=seconds, label=label)

    async def infer(
        self,
        model: str,
        inputs: Sequence[Tensor],
        *,
        company: str,
        parameters: dict[str, Any] | None = None,
        deadline: float | None = None,
    ) -> InferResponse:
        """One KServe v2 inference on the model server; raises a `GatewayError` when it gives none."""
        record = CallRecord("serving", ServingClient.provider, model, company)
        with self.accounting.recording(record):
            if self._serving is None:
                raise NotConfigured("no model server is configured (OUTLAY_GATEWAY__SERVING_URL)")
            client, guard = self._serving
            guard.breaker.check()
            request = InferRequest(inputs=list(inputs), parameters=parameters)
            on_retry = partial(self.accounting.retried, record)
            with within(deadline or self.settings.deadline_seconds, client.provider) as limit:
                response = await guard.run(partial(client.post, model, request), limit, on_retry)
        return response

    @property
    def llm_available(self) -> bool:
        """Worth asking the LLM now: a provider is configured and its circuit is not open."""
        return self.llm_unavailable is None

    @property
    def llm_unavailable(self) -> str | None:
        """Why the LLM is not worth asking now, as a `GatewayError` reason (`not_configured`,
        `circuit_open`); None when it is."""
        if self._llm is None:
            return NotConfigured.reason
        return CircuitOpen.reason if self._llm[1].breaker.state is CircuitState.OPEN else None

    def status(self) -> dict[str, dict[str, str]]:
        """Per model backend: what it is and its circuit state (`not_configured` when absent)."""
        llm = {"provider": self.settings.provider, "model": self.settings.model}
        return {
            "llm": {**llm, "circuit": _circuit(self._llm)},
            "serving": {"circuit": _circuit(self._serving)},
        }


def _open_llm(settings: GatewaySettings, guard: Guard) -> tuple[LLMClient, Guard] | None:
    from server.gateway.llm import LLMClient  # the SDK is slow to import: only when it is used

    try:
        return LLMClient(settings), guard
    except ValueError as exc:  # e.g. Bedrock without a region: the server runs on, without its LLM
        log.error("LLM provider misconfigured; LLM calls are unavailable", extra={"error": str(exc)})
        return None


def _circuit(backend: tuple[Any, Guard] | None) -> str:
    return "not_configured" if backend is None else backend[1].breaker.state.name.lower()
