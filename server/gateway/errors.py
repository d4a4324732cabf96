"""Why a model call gave no answer. Callers degrade on any `GatewayError` (a `FallbackChain` skips
to its next link and says why); nothing here is a bug in the caller except `PromptError`.

    GatewayError                 no usable answer; `reason` is a short code for logs, metrics and skips
    ├── Unavailable              the gateway did not call the provider, so nothing was spent
    │   ├── NotConfigured        no LLM provider (or no model-serving URL) is configured
    │   ├── CircuitOpen          the provider kept failing; calls fail fast until a probe succeeds
    │   ├── BudgetExhausted      the company has used its daily token budget
    │   └── BudgetUnreachable    the shared budget (Redis) did not answer: nothing is paid blind
    ├── ProviderFailed           the provider was called and did not answer usefully
    │   ├── DeadlineExceeded     no answer within the call's deadline (retries included)
    │   ├── RetriesExhausted     every attempt failed with a retryable error
    │   └── RequestRejected      a 4xx the provider will repeat (bad request, auth): never retried
    └── InvalidAnswer            the answer broke the schema, and so did the one repair attempt

    PromptError                  a template that does not exist or an input it lacks: fix the caller
"""

from __future__ import annotations


class GatewayError(Exception):
    """A model call that produced no usable answer."""

    reason = "failed"


class Unavailable(GatewayError):
    reason = "unavailable"


class NotConfigured(Unavailable):
    reason = "not_configured"


class CircuitOpen(Unavailable):
    reason = "circuit_open"


class BudgetExhausted(Unavailable):
    reason = "budget_exhausted"


class BudgetUnreachable(Unavailable):
    reason = "budget_unreachable"


class ProviderFailed(GatewayError):
    reason = "provider_failed"


class DeadlineExceeded(ProviderFailed):
    reason = "deadline_exceeded"


class RetriesExhausted(ProviderFailed):
    reason = "retries_exhausted"


class RequestRejected(ProviderFailed):
    reason = "rejected"

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class InvalidAnswer(GatewayError):
    reason = "invalid_answer"

    def __init__(self, message: str, *, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


class PromptError(Exception):
    """A template that does not exist, or rendering without one of its inputs."""
