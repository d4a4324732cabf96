"""The live agent: Claude, through the model gateway, picks tools from the server's own `tools/list`
and holds the conversation — with the scenario's scripted user turns, or with a simulated user (a
second model conversation that plays the scenario's `user.instruction`) when the run asks for one.

After each user turn the agent loops: the model answers → each tool it calls is called over the
protocol → the results go back → until the model ends its turn (or calls more than `max_calls` tools
in one turn, which ends the turn with a note). Prompts: prompts/templates/eval_agent.md and
eval_user.md. Where the answers come from (live, recorded, replayed) is `recording.py`'s business.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from mcp_types import Tool as McpTool

from evals.harness.recording import GatewayModel, ModelPort, Recorder, Replayer, Role, TrialModel
from evals.harness.scenario import Scenario
from evals.harness.sessions import ToolSession
from evals.harness.transcript import ToolCallRecord, Transcript
from server.gateway import (
    ChatAnswer,
    GatewaySettings,
    ModelGateway,
    ModelTurn,
    Tool,
    ToolResult,
    ToolResults,
    ToolUse,
    UserText,
)
from server.gateway.messages import Chat, ChatTurn
from server.gateway.prompts import PromptLibrary, Rendered
from server.settings.gateway import DEFAULT_PROMPTS_DIR

STOP = "###STOP###"
MAX_CALLS_PER_TURN = 10
MAX_USER_TURNS = 8  # with a simulated user, the first (scripted) turn included


def live_agent(
    settings: GatewaySettings | ModelGateway,
    *,
    record: Path | None = None,
    simulated_user: bool = False,
    company: str = "evals",
) -> LiveAgent:
    """A live agent on the configured model; `record` names the folder recordings are written to.
    Given settings, the agent opens (and `aclose` closes) its own gateway. `company` is whose daily
    token budget the run spends."""
    if isinstance(settings, ModelGateway):
        port: ModelPort = GatewayModel(settings, company=company)
    else:
        port = GatewayModel(ModelGateway(settings), company=company, owned=True)
    if record is not None:
        port = Recorder(port, record)
    return LiveAgent(port, simulated_user=simulated_user)


def replay_agent(folder: Path) -> LiveAgent:
    """The live agent answered from the recordings in `folder`: no network, no key (agent kind
    `replay`). Whether a simulated user played a trial is what its recording says."""
    return LiveAgent(Replayer(folder))


class LiveAgent:
    def __init__(
        self,
        port: ModelPort,
        *,
        simulated_user: bool = False,
        max_calls: int = MAX_CALLS_PER_TURN,
        max_user_turns: int = MAX_USER_TURNS,
        prompts: PromptLibrary | None = None,
    ) -> None:
        self.kind = port.kind
        self.provider, self.model = port.provider, port.model
        self._port, self._simulated = port, simulated_user
        self._max_calls, self._max_user_turns = max_calls, max_user_turns
        self._prompts = prompts or PromptLibrary(DEFAULT_PROMPTS_DIR)

    async def aclose(self) -> None:
        await self._port.aclose()

    async def converse(
        self, scenario: Scenario, tools: ToolSession, transcript: Transcript, trial: int
    ) -> None:
        offered = tuple(_offered(tool) for tool in await tools.tools())
        system = self._prompt(scenario, scenario.user.turns[0]).system
        with self._port.trial(scenario.id, trial) as model:
            simulated = self._simulates(scenario, model)
            agent = _Turns(model, transcript, system, offered, self._max_calls)
            history: list[ChatTurn] = []
            text: str | None = scenario.user.turns[0]
            turn = 0
            while text is not None:
                transcript.said("user", text)
                await tools.speak_as(scenario.user.speaker(turn))
                history.append(UserText(self._prompt(scenario, text).user))
                transcript.said("assistant", await agent.answer(history, tools, turn))
                turn += 1
                text = await self._next_user_turn(scenario, model, transcript, turn, simulated)

    def _prompt(self, scenario: Scenario, request: str) -> Rendered:
        """The agent's system prompt, and a user turn as the model reads it."""
        inputs = {"today": _today(scenario.today), "request": request}
        return self._prompts.get("eval_agent").render(inputs)

    def _simulates(self, scenario: Scenario, model: TrialModel) -> bool:
        if model.simulated_user is not None:
            return model.simulated_user
        return self._simulated and scenario.user.instruction is not None

    async def _next_user_turn(
        self, scenario: Scenario, model: TrialModel, transcript: Transcript, turn: int, simulated: bool
    ) -> str | None:
        """The user's next words: the script's, or the simulated user's; None when the user is done."""
        if not simulated:
            return scenario.user.turns[turn] if turn < len(scenario.user.turns) else None
        if turn >= self._max_user_turns:
            return None
        prompt = self._prompts.get("eval_user").render(
            {"instruction": scenario.user.instruction or "", "conversation": _as_seen_by_user(transcript)}
        )
        answer = await _ask(model, transcript, Chat(prompt.system, (UserText(prompt.user),)), "user")
        said = answer.turn.text.strip()
        return None if not said or STOP in said else said


@dataclass
class _Turns:
    """The agent's side: answers one user turn, calling tools until the model ends its turn."""

    model: TrialModel
    transcript: Transcript
    system: str
    offered: tuple[Tool, ...]
    max_calls: int

    async def answer(self, history: list[ChatTurn], tools: ToolSession, turn: int) -> str:
        made = 0
        while True:
            chat = Chat(self.system, tuple(history), self.offered)
            said = (await _ask(self.model, self.transcript, chat, "agent")).turn
            if not said.tool_uses:
                history.append(said)
                return said.text
            if made + len(said.tool_uses) > self.max_calls:
                # The unanswered calls must not stay in the history: the API wants a result for each.
                text = "\n\n".join(filter(None, [said.text, f"[stopped: over {self.max_calls} tool calls]"]))
                history.append(ModelTurn(text))
                return text
            history.append(said)
            records = [await tools.call(use.name, use.input, turn=turn) for use in said.tool_uses]
            made += len(records)
            history.append(_results(said.tool_uses, records))


async def _ask(model: TrialModel, transcript: Transcript, chat: Chat, role: Role) -> ChatAnswer:
    answer = await model.ask(chat, role)
    transcript.input_tokens += answer.input_tokens
    transcript.output_tokens += answer.output_tokens
    transcript.cost_usd += answer.cost_usd
    transcript.model_calls += 1
    return answer


def _offered(tool: McpTool) -> Tool:
    """An MCP tool as the model is offered it: its name, description and input schema, as listed."""
    return Tool(tool.name, tool.description or tool.title or tool.name, dict(tool.input_schema))


def _results(uses: tuple[ToolUse, ...], records: list[ToolCallRecord]) -> ToolResults:
    return ToolResults(
        tuple(
            ToolResult(use.id, _result_text(record), record.is_error)
            for use, record in zip(uses, records, strict=True)
        )
    )


def _result_text(record: ToolCallRecord) -> str:
    """What the model reads back: the tool's text, then its structured result as JSON when it has one."""
    parts = [record.text] if record.text else []
    if record.structured is not None:
        structured = json.dumps(record.structured, ensure_ascii=False, separators=(",", ":"))
        parts.append(f"Structured result (JSON):\n{structured}")
    return "\n\n".join(parts) or "(the tool returned nothing)"


def _as_seen_by_user(transcript: Transcript) -> str:
    names = {"user": "You", "assistant": "Assistant"}
    return "\n\n".join(f"{names[message.role]}: {message.text}" for message in transcript.messages)


def _today(day: dt.date) -> str:
    return f"{day:%A} {day.isoformat()}"
