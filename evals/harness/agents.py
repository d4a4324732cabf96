"""Agents drive one trial's conversation through a `ToolSession`; the scripted one needs no model.

The scripted agent replays the scenario's reference: after each user turn, its calls (arguments may be
read from earlier results with `{$from: <as-name>, path: <JSONPath>}`), then its answer. It is what CI
runs: deterministic, and a failure means the server no longer does what the scenario says it does.
"""

from __future__ import annotations

from typing import Any, Protocol

from jsonpath_ng.ext.parser import parse

from evals.harness.scenario import Scenario
from evals.harness.sessions import ToolSession
from evals.harness.transcript import ToolCallRecord, Transcript


class Agent(Protocol):
    kind: str  # scripted | live | replay: goes into the results

    async def converse(
        self, scenario: Scenario, tools: ToolSession, transcript: Transcript, trial: int
    ) -> None:
        """Hold the scenario's conversation; raise `InfrastructureError` when it could not be held."""


class ReferenceBroken(Exception):
    """A reference call could not be made as written (its `$from` found nothing): a scored failure."""


class ScriptedAgent:
    kind = "scripted"

    async def converse(
        self, scenario: Scenario, tools: ToolSession, transcript: Transcript, trial: int
    ) -> None:
        named: dict[str, ToolCallRecord] = {}
        for turn, (text, reference) in enumerate(zip(scenario.user.turns, scenario.reference, strict=True)):
            transcript.said("user", text)
            await tools.speak_as(scenario.user.speaker(turn))
            for call in reference.calls:
                arguments = {key: _resolve(value, named) for key, value in call.arguments.items()}
                record = await tools.call(call.tool, arguments, turn=turn, name=call.name)
                if call.name:
                    named[call.name] = record
            transcript.said("assistant", reference.answer)


def _resolve(value: Any, named: dict[str, ToolCallRecord]) -> Any:
    """An argument as sent: `{$from, path}` read from an earlier call's structured result."""
    if isinstance(value, dict) and "$from" in value:
        source, path = value["$from"], value.get("path", "$")
        if source not in named:
            raise ReferenceBroken(f"`$from: {source}` names no earlier call (give that call `as: {source}`)")
        try:
            found = [match.value for match in parse(path).find(named[source].structured)]
        except Exception as exc:  # jsonpath-ng's lexer raises bare Exceptions, its parser its own
            raise ReferenceBroken(f"`{path}` is not a JSONPath: {exc}") from exc
        if not found:
            raise ReferenceBroken(f"`{path}` found nothing in the result of `{source}`")
        return found[0] if len(found) == 1 else found
    if isinstance(value, dict):
        return {key: _resolve(item, named) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item, named) for item in value]
    return value
