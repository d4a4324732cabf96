"""Where the live agent's model answers come from: the model gateway (live), the gateway with every
answer written down (record), or those answers read back (replay) — so that a live run done once by
someone with a key becomes a deterministic check that needs no network.

A recording is one JSON file per scenario and trial (`<folder>/<scenario>/trial-<n>.json`): the
model and provider, then every exchange in order — who asked (the agent, or the simulated user), a
digest of the request, and the model's answer with its tokens and cost. Replay answers each request
with the next recorded answer after checking its digest: a request that differs (a prompt, a tool
description or schema, or a tool result changed) means the recording no longer says what the model
would answer, and the trial stops as an infrastructure error instead of scoring stale answers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from evals.harness.transcript import InfrastructureError
from server.gateway import ChatAnswer, GatewayError, ModelGateway, ModelTurn, ToolUse
from server.gateway.messages import Chat

FORMAT: Literal["outlay.eval.recording/1"] = "outlay.eval.recording/1"
Role = Literal["agent", "user"]  # who asks: the agent under test, or the simulated user
Ask = Callable[[Chat, Role], Awaitable[ChatAnswer]]
RERECORD = "re-record with --record"


@dataclass(frozen=True)
class TrialModel:
    """The model for one trial. `simulated_user` is None when the agent decides whether a simulated
    user plays the later turns; on replay, it is what the recorded trial did."""

    ask: Ask
    simulated_user: bool | None = None


class ModelPort(Protocol):
    kind: str  # live | replay: the agent kind the results report
    provider: str | None
    model: str | None

    def trial(self, scenario: str, trial: int) -> AbstractContextManager[TrialModel]:
        """The model for one trial; leaving the block by an exception abandons the trial."""

    async def aclose(self) -> None: ...


class GatewayModel:
    """Live: every request goes to the model gateway; its errors are infrastructure errors."""

    kind = "live"

    def __init__(self, gateway: ModelGateway, *, company: str = "evals", owned: bool = False) -> None:
        self._gateway, self._company, self._owned = gateway, company, owned
        self.provider: str | None = gateway.settings.provider
        self.model: str | None = gateway.settings.model

    @contextmanager
    def trial(self, scenario: str, trial: int) -> Iterator[TrialModel]:
        yield TrialModel(self._ask)

    async def _ask(self, chat: Chat, role: Role) -> ChatAnswer:
        try:
            return await self._gateway.converse(
                chat.system, chat.turns, chat.tools, company=self._company, label=f"eval_{role}"
            )
        except GatewayError as exc:
            raise InfrastructureError(f"the model gave no answer ({exc.reason}): {exc}") from exc

    async def aclose(self) -> None:
        if self._owned:
            await self._gateway.aclose()


class Recorder:
    """Live, and every exchange of a trial written to its recording when the trial ends."""

    kind = "live"

    def __init__(self, inner: ModelPort, folder: Path) -> None:
        self._inner, self.folder = inner, folder
        self.provider, self.model = inner.provider, inner.model

    @contextmanager
    def trial(self, scenario: str, trial: int) -> Iterator[TrialModel]:
        path = cassette_path(self.folder, scenario, trial)
        path.unlink(missing_ok=True)  # a trial that breaks off must not leave an older recording behind
        exchanges: list[RecordedExchange] = []
        with self._inner.trial(scenario, trial) as inner:

            async def ask(chat: Chat, role: Role) -> ChatAnswer:
                answer = await inner.ask(chat, role)
                exchanges.append(
                    RecordedExchange(role=role, digest=digest(chat, role), answer=_recorded(answer))
                )
                return answer

            yield TrialModel(ask, inner.simulated_user)
        cassette = Cassette(
            scenario=scenario,
            trial=trial,
            provider=self.provider or "-",
            model=self.model or "-",
            recorded_at=dt.datetime.now(dt.UTC),
            exchanges=exchanges,
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(cassette.model_dump_json(indent=1) + "\n", encoding="utf-8")

    async def aclose(self) -> None:
        await self._inner.aclose()


class Replayer:
    """Replay: answers from the recordings in `folder`, in order, with no network at all."""

    kind = "replay"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        first = next(iter(sorted(folder.glob("*/trial-*.json"))), None)
        recorded = _read(first) if first else None
        self.provider = recorded.provider if recorded else None
        self.model = recorded.model if recorded else None

    @contextmanager
    def trial(self, scenario: str, trial: int) -> Iterator[TrialModel]:
        path = cassette_path(self.folder, scenario, trial)
        if not path.is_file():
            raise InfrastructureError(f"recording is missing ({path}): {RERECORD}")
        cassette = _read(path)
        recorded = cassette.exchanges
        used = 0

        async def ask(chat: Chat, role: Role) -> ChatAnswer:
            nonlocal used
            if used == len(recorded):
                raise _stale(path, f"request {used + 1} ({role}) was never recorded")
            exchange = recorded[used]
            if (exchange.role, exchange.digest) != (role, digest(chat, role)):
                raise _stale(path, f"request {used + 1} ({role}) differs from the recorded one")
            used += 1
            return _answer(exchange.answer, cassette)

        yield TrialModel(ask, simulated_user=any(exchange.role == "user" for exchange in recorded))
        if used < len(recorded):
            raise _stale(path, f"the conversation ended after {used} of {len(recorded)} recorded requests")

    async def aclose(self) -> None:
        return None


def digest(chat: Chat, role: Role) -> str:
    """What decides the model's answer, canonically: who asks, the system prompt, every turn (tool
    results included) and the tools offered — names, descriptions and input schemas, since editing a
    description is exactly what may change the model's choice. Tool-use ids are part of the turns:
    they come from the model's answers, so a replay hands back the recorded ones and they match."""
    request = {
        "role": role,
        "system": chat.system,
        "turns": [{"kind": type(turn).__name__, **asdict(turn)} for turn in chat.turns],
        "tools": [asdict(tool) for tool in chat.tools],
    }
    canonical = json.dumps(request, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def cassette_path(folder: Path, scenario: str, trial: int) -> Path:
    return folder / scenario / f"trial-{trial}.json"


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RecordedUse(_Record):
    id: str
    name: str
    input: dict[str, Any]


class RecordedAnswer(_Record):
    text: str
    tool_uses: list[RecordedUse]
    stop_reason: str | None
    input_tokens: int
    output_tokens: int
    cost_usd: Decimal
    latency_ms: float


class RecordedExchange(_Record):
    role: Role
    digest: str
    answer: RecordedAnswer


class Cassette(_Record):
    format: Literal["outlay.eval.recording/1"] = FORMAT
    scenario: str
    trial: int
    provider: str
    model: str
    recorded_at: dt.datetime
    exchanges: list[RecordedExchange]


def _recorded(answer: ChatAnswer) -> RecordedAnswer:
    uses = [RecordedUse(id=use.id, name=use.name, input=use.input) for use in answer.turn.tool_uses]
    return RecordedAnswer(
        text=answer.turn.text,
        tool_uses=uses,
        stop_reason=answer.stop_reason,
        input_tokens=answer.input_tokens,
        output_tokens=answer.output_tokens,
        cost_usd=answer.cost_usd,
        latency_ms=answer.latency_ms,
    )


def _answer(recorded: RecordedAnswer, cassette: Cassette) -> ChatAnswer:
    uses = tuple(ToolUse(use.id, use.name, use.input) for use in recorded.tool_uses)
    return ChatAnswer(
        turn=ModelTurn(recorded.text, uses),
        stop_reason=recorded.stop_reason,
        provider=cassette.provider,
        model=cassette.model,
        retries=0,
        input_tokens=recorded.input_tokens,
        output_tokens=recorded.output_tokens,
        cost_usd=recorded.cost_usd,
        latency_ms=recorded.latency_ms,
    )


def _read(path: Path) -> Cassette:
    try:
        return Cassette.model_validate_json(path.read_bytes())
    except (OSError, ValidationError) as exc:
        raise InfrastructureError(f"recording {path} cannot be read ({exc}): {RERECORD}") from exc


def _stale(path: Path, what: str) -> InfrastructureError:
    return InfrastructureError(f"recording is stale ({path}: {what}): {RERECORD}")
