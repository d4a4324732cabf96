"""`ModelGateway.structured`: one question to the LLM, answered as a validated pydantic model.

template → redacted inputs → cache → circuit → budget → guarded attempt → validation → (one repair)
→ accounting.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from server.gateway.accounting import Accounting, CallRecord
from server.gateway.answers import AnswerSpec, OffSchema
from server.gateway.cache import cache_key
from server.gateway.errors import InvalidAnswer
from server.gateway.messages import Chat, UserText
from server.gateway.prompts import PromptTemplate, Rendered
from server.gateway.redaction import Redaction
from server.gateway.resilience import Deadline, within
from server.shared.kinds import AnswerCache

if TYPE_CHECKING:
    from server.gateway.chat import ChatCalls

A = TypeVar("A", bound=BaseModel)


@dataclass(frozen=True)
class StructuredAnswer(Generic[A]):
    """An answer and where it came from: the exact prompt version, model and what it cost."""

    value: A
    template: str
    template_hash: str
    provider: str
    model: str
    cached: bool
    repaired: bool
    retries: int
    input_tokens: int
    output_tokens: int
    cost_usd: Decimal
    latency_ms: float


@dataclass(frozen=True)
class Question(Generic[A]):
    """What is asked, as it will leave the process: inputs already redacted, template rendered."""

    template: PromptTemplate
    inputs: dict[str, str]
    rendered: Rendered
    spec: AnswerSpec[A]
    company: str
    redaction: Redaction

    @classmethod
    def build(
        cls,
        template: PromptTemplate,
        inputs: Mapping[str, object],
        spec: AnswerSpec[A],
        company: str,
        redaction: Redaction,
    ) -> Question[A]:
        safe = {name: redaction.redact(str(value)) for name, value in inputs.items()}
        return cls(template, safe, template.render(safe), spec, company, redaction)


class StructuredCalls:
    """Answers `Question`s with the LLM: cache, budget, guarded attempts, one repair, accounting."""

    def __init__(self, chats: ChatCalls, cache: AnswerCache, accounting: Accounting) -> None:
        self._chats, self._cache, self._accounting = chats, cache, accounting

    async def ask(self, question: Question[A], *, deadline: float, restore: bool) -> StructuredAnswer[A]:
        record = self._record(question)
        with self._accounting.recording(record):
            value, cached = await self._answer(question, record, deadline)
        return StructuredAnswer(
            _restored(value, question.redaction) if restore else value,
            question.template.name,
            question.template.hash,
            record.provider,
            record.model,
            cached,
            record.repaired,
            record.retries,
            record.input_tokens,
            record.output_tokens,
            record.cost_usd,
            record.latency_ms,
        )

    def _record(self, question: Question[A]) -> CallRecord:
        return CallRecord(
            "llm",
            self._chats.provider,
            self._chats.model,
            question.company,
            template=question.template.name,
            template_hash=question.template.hash,
            redacted=question.redaction.count,
        )

    async def _answer(self, question: Question[A], record: CallRecord, seconds: float) -> tuple[A, bool]:
        # Only answers the provider gave are cached: with no provider, this always misses.
        key = cache_key(
            question.company,
            question.template.hash,
            self._chats.model,
            question.spec.fingerprint,
            question.inputs,
        )
        if (hit := await self._cache.get(question.company, key)) is not None:
            record.outcome = "cache_hit"
            return question.spec.model.model_validate(hit), True
        self._chats.ready()
        with within(seconds, self._chats.provider) as deadline:
            value = await self._converse(question, record, deadline)
        await self._cache.put(question.company, key, value.model_dump(mode="json"))
        return value, False

    async def _converse(self, question: Question[A], record: CallRecord, deadline: Deadline) -> A:
        rendered = question.rendered
        tool = question.spec.tool
        conversation = Chat(rendered.system, (UserText(rendered.user),), (tool,), force=tool.name)
        reply = await self._chats.send(conversation, record, deadline)
        try:
            return question.spec.parse(reply)
        except OffSchema as first:
            record.repaired = True
            conversation = conversation.then(*question.spec.repair(reply, first.problems))
        reply = await self._chats.send(conversation, record, deadline)
        try:
            return question.spec.parse(reply)
        except OffSchema as second:
            raise InvalidAnswer(
                f"the model's answer broke the schema twice: {second}", problems=second.problems
            ) from None


def _restored(value: A, redaction: Redaction) -> A:
    """The answer with the call's placeholders turned back into what they stood for."""
    if not redaction.count:
        return value
    try:
        return type(value).model_validate(_map_strings(value.model_dump(), redaction.restore))
    except ValidationError:
        return value  # a validator refuses the originals: the placeholders are still a fine answer


def _map_strings(data: Any, change: Callable[[str], str]) -> Any:
    if isinstance(data, str):
        return change(data)
    if isinstance(data, dict):
        return {key: _map_strings(item, change) for key, item in data.items()}
    if isinstance(data, list | tuple):
        return [_map_strings(item, change) for item in data]
    return data
