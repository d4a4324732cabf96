"""What every model call cost and how it went: tokens, USD, latency, retries, outcome — as OpenTelemetry
metrics (meter `outlay.gateway`) and one log line (logger `outlay.gateway`) per call — plus the
per-company daily token budget (in process, or on Redis: `server.shared`).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import anyio
from opentelemetry import trace
from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation
from opentelemetry.trace import SpanKind

from server.gateway.errors import GatewayError
from server.gateway.resilience import CircuitBreaker
from server.settings.gateway import GatewaySettings, ModelPrice
from server.shared.kinds import TokenBudget
from server.shared.memory import MemoryBudget, utc_today

log = logging.getLogger("outlay.gateway")
_tracer = trace.get_tracer("outlay.gateway")
_PER_TOKENS = Decimal(1_000_000)
_MICRO = Decimal("0.000001")


@dataclass
class CallRecord:
    """One call as its log line and metrics tell it; filled in while the call runs."""

    kind: str  # llm | serving
    provider: str
    model: str
    company: str
    template: str = "-"
    template_hash: str = "-"
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    retries: int = 0
    repaired: bool = False
    redacted: int = 0
    outcome: str = "ok"
    started: float = field(default_factory=time.perf_counter)

    @property
    def latency_ms(self) -> float:
        return round((time.perf_counter() - self.started) * 1000, 2)


def price_for(model: str, prices: dict[str, ModelPrice]) -> ModelPrice | None:
    """The longest price-table key contained in the model id (Bedrock ids wrap the model name)."""
    matches = [key for key in prices if key in model]
    return prices[max(matches, key=len)] if matches else None


def cost_usd(price: ModelPrice, input_tokens: int, output_tokens: int) -> Decimal:
    return (price.input * input_tokens + price.output * output_tokens) / _PER_TOKENS


class Accounting:
    """Instruments of the `outlay.gateway` meter, the token budget, and the per-call log line."""

    def __init__(
        self,
        settings: GatewaySettings,
        meters: MeterProvider,
        today: Callable[[], dt.date] = utc_today,
        budget: TokenBudget | None = None,
    ) -> None:
        self._prices = settings.prices
        self.budget = budget or MemoryBudget(settings.daily_token_budget, today)
        self._breakers: list[CircuitBreaker] = []
        self._unpriced: set[str] = set()
        meter = meters.get_meter("outlay.gateway")
        self._calls = meter.create_counter("outlay.gateway.calls", "{call}", "Model calls by outcome")
        self._retries = meter.create_counter("outlay.gateway.retries", "{retry}", "Retried attempts")
        self._tokens = meter.create_counter("outlay.gateway.tokens", "{token}", "LLM tokens by direction")
        self._cost = meter.create_counter("outlay.gateway.cost", "uUSD", "LLM cost in micro-dollars")
        self._latency = meter.create_histogram(
            "outlay.gateway.latency", "ms", "Call latency, retries included"
        )
        meter.create_observable_gauge(
            "outlay.gateway.circuit", [self._observe_circuits], "{state}", "0 closed, 1 half-open, 2 open"
        )

    def watch(self, breaker: CircuitBreaker) -> None:
        self._breakers.append(breaker)

    def _observe_circuits(self, _: CallbackOptions) -> Iterable[Observation]:
        return [Observation(int(b.state), {"provider": b.provider}) for b in self._breakers]

    def retried(self, record: CallRecord, reason: str) -> None:
        record.retries += 1
        self._retries.add(1, {"kind": record.kind, "provider": record.provider, "reason": reason})

    def used_tokens(self, record: CallRecord, input_tokens: int, output_tokens: int) -> None:
        """Tokens of one provider response (the budget counts them as they happen: `ChatCalls.send`)."""
        record.input_tokens += input_tokens
        record.output_tokens += output_tokens
        price = price_for(record.model, self._prices)
        if price is not None:
            record.cost_usd += cost_usd(price, input_tokens, output_tokens)
        elif record.model not in self._unpriced:
            self._unpriced.add(record.model)
            log.warning("no price for this model: its cost counts as 0", extra={"model": record.model})

    @contextmanager
    def recording(self, record: CallRecord) -> Iterator[CallRecord]:
        """Around a call: a client span (a child of the tool call's), its outcome from how it ended,
        then its metrics and log line."""
        attributes = {"outlay.model.kind": record.kind, "gen_ai.provider.name": record.provider}
        with _tracer.start_as_current_span(
            f"model {record.kind} {record.model}", kind=SpanKind.CLIENT, attributes=attributes
        ) as span:
            try:
                yield record
            except GatewayError as exc:
                record.outcome = exc.reason
                raise
            except anyio.get_cancelled_exc_class():
                record.outcome = "cancelled"
                raise
            except BaseException:
                record.outcome = "error"
                raise
            finally:
                span.set_attributes({"outlay.outcome": record.outcome, "gen_ai.request.model": record.model})
                self.finish(record)

    def finish(self, record: CallRecord) -> None:
        latency = record.latency_ms
        labels = {"kind": record.kind, "provider": record.provider, "model": record.model}
        self._calls.add(1, {**labels, "outcome": record.outcome})
        if record.input_tokens or record.output_tokens:
            self._tokens.add(record.input_tokens, {**labels, "direction": "input"})
            self._tokens.add(record.output_tokens, {**labels, "direction": "output"})
            self._cost.add(int((record.cost_usd / _MICRO).to_integral_value(ROUND_HALF_UP)), labels)
        self._latency.record(latency, {**labels, "outcome": record.outcome})
        # Never the prompt or the inputs: they carry personal data, redacted or not.
        log.info(
            "model call",
            extra={
                **labels,
                "company": record.company,
                "template": record.template,
                "template_hash": record.template_hash,
                "input_tokens": record.input_tokens,
                "output_tokens": record.output_tokens,
                "cost_usd": str(record.cost_usd),
                "latency_ms": latency,
                "retries": record.retries,
                "repaired": record.repaired,
                "redacted": record.redacted,
                "outcome": record.outcome,
            },
        )
