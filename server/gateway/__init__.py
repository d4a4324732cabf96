"""The model gateway: every call to a model (an LLM, or a predictive model served over HTTP) goes
through here, with a deadline, retries, a circuit breaker, a concurrency limit, redaction of personal
data, a per-company token budget, a response cache and accounting (metrics + one log line per call).

The runtime opens one `ModelGateway` per process (`AppContext.gateway`). Capabilities use:

    answer = await app.gateway.structured(
        "categorize_expense",                      # prompts/templates/categorize_expense.md
        {"descriptor": "UBER *TRIP", ...},         # exactly the template's $inputs (str()-ed, redacted)
        CategoryGuess,                             # a pydantic model: the answer's schema
        company=caller.company_slug,               # budget, cache and accounting are per company
        redactor=Redactor(employee_names),         # names to redact, besides cards/IBANs/emails/phones
        choices={"category": codes},               # closed choices, as JSON-schema enums
    )
    answer.value, answer.template_hash, answer.model, answer.cost_usd, answer.cached   # StructuredAnswer

    reply = await gateway.converse(system, [UserText("..."), ...], tools, company=...)   # an agent's step
    reply.turn.text, reply.turn.tool_uses, reply.stop_reason, reply.cost_usd            # ChatAnswer

    response = await app.gateway.infer("categorizer", [Tensor(...)], company=caller.company_slug)

All three raise a `GatewayError` (see `server.gateway.errors` for the tree) when there is no usable answer;
callers degrade instead of failing, most simply with a `FallbackChain` that tries the LLM, then a local
model, then rules, then a last resort ("needs review"), and says which link answered and why the
earlier ones were skipped. `gateway.llm_available` tells whether the LLM is worth trying at all, and
`gateway.llm_unavailable` why not (a `GatewayError` reason).
"""

from server.gateway.chat import ChatAnswer
from server.gateway.errors import (
    BudgetExhausted,
    BudgetUnreachable,
    CircuitOpen,
    DeadlineExceeded,
    GatewayError,
    InvalidAnswer,
    NotConfigured,
    PromptError,
    ProviderFailed,
    RequestRejected,
    RetriesExhausted,
    Unavailable,
)
from server.gateway.fallback import ChainResult, Decline, FallbackChain, LastResort, Link, Skip
from server.gateway.gateway import ModelGateway
from server.gateway.messages import ModelTurn, Tool, ToolResult, ToolResults, ToolUse, UserText
from server.gateway.redaction import Redactor
from server.gateway.serving import InferResponse, Tensor
from server.gateway.structured import StructuredAnswer
from server.settings.gateway import GatewaySettings, ModelPrice

__all__ = [
    "BudgetExhausted",
    "BudgetUnreachable",
    "ChainResult",
    "ChatAnswer",
    "CircuitOpen",
    "DeadlineExceeded",
    "Decline",
    "FallbackChain",
    "GatewayError",
    "GatewaySettings",
    "InferResponse",
    "InvalidAnswer",
    "LastResort",
    "Link",
    "ModelGateway",
    "ModelPrice",
    "ModelTurn",
    "NotConfigured",
    "PromptError",
    "ProviderFailed",
    "Redactor",
    "RequestRejected",
    "RetriesExhausted",
    "Skip",
    "StructuredAnswer",
    "Tensor",
    "Tool",
    "ToolResult",
    "ToolResults",
    "ToolUse",
    "Unavailable",
    "UserText",
]
