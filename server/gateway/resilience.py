"""How a provider call survives a bad day: a deadline over the whole call, retries with full-jitter
exponential backoff on retryable failures only, a circuit breaker and a concurrency limit per provider.

Order around each attempt: circuit check → concurrency slot → circuit entry → the request. A call
queued for a slot fails fast if the circuit opens meanwhile; time spent queued never counts against
the provider's health.
"""

from __future__ import annotations

import email.utils
import enum
import random
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import anyio
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt
from tenacity.stop import stop_base

from server.gateway.errors import CircuitOpen, DeadlineExceeded, RequestRejected, RetriesExhausted
from server.settings.gateway import GatewaySettings

T = TypeVar("T")
# Statuses that say "try again later" (besides 429 and 5xx): request timeout, conflict.
_RETRYABLE_4XX = frozenset({408, 409})


class AttemptFailed(Exception):
    """One attempt failed in a way that may not happen again: the retry loop's only signal.

    `reason`: rate_limited | overloaded | server_error | timeout | connection | malformed.
    Rate limiting is the provider protecting itself, not failing: it does not count against the circuit.
    """

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after

    @property
    def counts_against_circuit(self) -> bool:
        return self.reason != "rate_limited"


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait from `retry-after-ms`, or `retry-after` (seconds or an HTTP date)."""
    if (millis := headers.get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def failure_for_status(status: int, headers: Mapping[str, str], provider: str) -> Exception:
    """What an error status means: an `AttemptFailed` worth retrying, or a `RequestRejected` that is not."""
    if status == 429:
        return AttemptFailed("rate_limited", retry_after=parse_retry_after(headers))
    if status == 529:
        return AttemptFailed("overloaded", retry_after=parse_retry_after(headers))
    if status >= 500 or status in _RETRYABLE_4XX:
        return AttemptFailed("server_error", retry_after=parse_retry_after(headers))
    return RequestRejected(f"{provider} refused the request with status {status}", status=status)


class Deadline:
    """An instant on anyio's clock by which the whole call must be over."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = anyio.current_time() + seconds

    def remaining(self) -> float:
        return max(0.0, self.at - anyio.current_time())


@dataclass(frozen=True)
class Backoff:
    """Full jitter: retry n waits U(0, min(cap, base * 2^(n-1))), but never less than `retry-after`."""

    base: float
    cap: float
    rng: random.Random

    def window(self, retry: int) -> float:
        return min(self.cap, self.base * 2.0 ** (retry - 1))

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        return max(self.rng.uniform(0, self.window(retry)), retry_after or 0.0)


class CircuitState(enum.IntEnum):
    """Values are what the breaker gauge reports."""

    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


class CircuitBreaker:
    """Opens after `threshold` consecutive failed attempts; after `cooldown` lets one probe through:
    its success closes the circuit, its failure opens it for another cool-down."""

    def __init__(self, provider: str, threshold: int, cooldown: float, clock: Callable[[], float]) -> None:
        self.provider = provider
        self._threshold, self._cooldown, self._clock = threshold, cooldown, clock
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False

    @property
    def state(self) -> CircuitState:
        if self._state is CircuitState.OPEN and self._clock() - self._opened_at >= self._cooldown:
            return CircuitState.HALF_OPEN
        return self._state

    def check(self) -> None:
        """Fail fast without taking the probe: for calls about to queue."""
        if self.state is CircuitState.OPEN or (self.state is CircuitState.HALF_OPEN and self._probing):
            raise CircuitOpen(f"{self.provider} is failing; calls are paused while it recovers")

    def enter(self) -> None:
        """Before an attempt: refuse it, or let it through (as the probe when half-open)."""
        self.check()
        if self.state is CircuitState.HALF_OPEN:
            self._state, self._probing = CircuitState.HALF_OPEN, True

    def succeeded(self) -> None:
        self._state, self._failures, self._probing = CircuitState.CLOSED, 0, False

    def failed(self) -> None:
        self._failures += 1
        if self._probing or self._failures >= self._threshold:
            self._state, self._opened_at, self._probing = CircuitState.OPEN, self._clock(), False

    def released(self) -> None:
        """The attempt said nothing about the provider's health (a 4xx, a rate limit)."""
        if self._probing:  # back to open, cool-down already served: the next call probes again
            self._state, self._probing = CircuitState.OPEN, False


class _StopAtDeadline(stop_base):
    """Give up now rather than sleep into the deadline (a `retry-after` longer than what is left)."""

    def __init__(self, deadline: Deadline) -> None:
        self._deadline = deadline

    def __call__(self, retry_state: RetryCallState) -> bool:
        return retry_state.upcoming_sleep >= self._deadline.remaining()


Attempt = Callable[[float], Awaitable[T]]  # one request, given how many seconds it may take


class Guard:
    """One provider's breaker, concurrency limit and retry policy; `tenacity` is the only retry layer."""

    def __init__(
        self,
        provider: str,
        settings: GatewaySettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.provider = provider
        self.breaker = CircuitBreaker(
            provider, settings.breaker_failures, settings.breaker_cooldown_seconds, clock
        )
        self.backoff = Backoff(
            settings.backoff_base_seconds, settings.backoff_max_seconds, rng or random.SystemRandom()
        )
        self._limiter = anyio.CapacityLimiter(settings.max_concurrency)
        self._attempts = settings.max_attempts
        self._attempt_timeout = settings.attempt_timeout_seconds

    async def run(self, attempt: Attempt[T], deadline: Deadline, on_retry: Callable[[str], None]) -> T:
        """`attempt` until it succeeds, fails for good, or the attempts or the deadline run out."""
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(AttemptFailed),
            wait=self._wait,
            stop=stop_after_attempt(self._attempts) | _StopAtDeadline(deadline),
            before_sleep=lambda state: on_retry(_failure(state).reason),
            sleep=anyio.sleep,
            reraise=True,
        )
        try:
            async for state in retrying:
                with state:
                    result = await self._once(attempt)
        except AttemptFailed as exc:
            raise RetriesExhausted(f"{self.provider} kept failing ({exc.reason})") from exc
        return result

    def _wait(self, state: RetryCallState) -> float:
        return self.backoff.delay(state.attempt_number, _failure(state).retry_after)

    async def _once(self, attempt: Attempt[T]) -> T:
        self.breaker.check()
        async with self._limiter:
            self.breaker.enter()
            healthy: bool | None = None  # None: the attempt told nothing about the provider's health
            try:
                # The call's deadline is the cancel scope's job (`within`); this bounds one attempt.
                result = await attempt(self._attempt_timeout)
                healthy = True
            except AttemptFailed as exc:
                healthy = False if exc.counts_against_circuit else None
                raise
            except anyio.get_cancelled_exc_class():
                healthy = False  # the deadline fell while the provider was still thinking: too slow
                raise
            finally:
                self._settle(healthy)
        return result

    def _settle(self, healthy: bool | None) -> None:
        if healthy is True:
            self.breaker.succeeded()
        elif healthy is False:
            self.breaker.failed()
        else:
            self.breaker.released()


def _failure(state: RetryCallState) -> AttemptFailed:
    assert state.outcome is not None
    error = state.outcome.exception()
    assert isinstance(error, AttemptFailed)  # the retry predicate lets nothing else through
    return error


@contextmanager
def within(seconds: float, provider: str) -> Iterator[Deadline]:
    """The call's deadline: the body is cancelled when it falls, and the caller gets `DeadlineExceeded`."""
    deadline = Deadline(seconds)
    with anyio.CancelScope(deadline=deadline.at) as scope:
        yield deadline
    if scope.cancelled_caught:
        raise DeadlineExceeded(f"no answer from {provider} within {seconds:g} s")
