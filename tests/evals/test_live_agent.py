"""The live agent end to end: the real anthropic SDK against the fake Messages API on loopback, the
fake scripted to pick tools from what it is offered, driving a real in-memory MCP session on the
seeded world — and the recorded mode that turns such a run into a replay with no network."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from evals.harness.live import LiveAgent, live_agent, replay_agent
from evals.harness.recording import GatewayModel, digest
from evals.harness.scenario import Confirm, Scenario
from evals.harness.sessions import ServerTarget, ToolSession, Transport, open_client
from evals.harness.transcript import InfrastructureError, Transcript
from server.fakes.anthropic import FakeAnthropic
from server.fakes.loopback import serve_on_loopback
from server.fakes.script import Behaviour, Blocks, Recorded, TextAnswer, UseTool, rate_limited, server_error
from server.gateway import GatewaySettings, ModelGateway, ModelTurn, Tool, ToolUse, UserText
from server.gateway.messages import Chat
from tests.gateway.conftest import BEDROCK_MODEL, fake_aws_credentials, fast_settings

pytestmark = pytest.mark.anyio
TODAY = dt.date(2026, 6, 30)
JSON_MARK = "Structured result (JSON):\n"
PERSONA = "You are Ann from finance. You want the latest Marketing expense, then the latest Sales one."


def assistant(request: Recorded) -> Behaviour:
    """The fake model: searches the team the user named, then cites the first expense it got back."""
    body = request.json()
    if not body.get("tools"):
        return simulated_user(body)
    last = body["messages"][-1]["content"]
    if isinstance(last, str):
        team = "Sales" if "Sales" in last else "Marketing"
        return Blocks(("Let me look.", UseTool("search_expenses", {"team": team, "limit": 2})))
    found = json.loads(last[0]["content"].split(JSON_MARK, 1)[1])
    first = found["items"][0]
    amount = first["amount_company"]
    return TextAnswer(
        f"The latest is {first['id']}: {amount['amount']} {amount['currency']}.", output_tokens=10
    )


def simulated_user(body: dict[str, Any]) -> Behaviour:
    """The fake model playing the user: asks about Sales once, then stops."""
    seen = body["messages"][0]["content"]
    return TextAnswer("And Sales?" if seen.count("Assistant:") == 1 else "###STOP###", output_tokens=5)


def always_searching(request: Recorded) -> Behaviour:
    return Blocks((UseTool("search_expenses", {"limit": 1}),))


def scenario(*turns: str, instruction: str | None = None) -> Scenario:
    return Scenario.model_validate(
        {
            "id": "latest-expense",
            "title": "The latest expense of a team",
            "fixture": "world",
            "today": TODAY,
            "user": {"turns": list(turns), "instruction": instruction},
            "reference": [{"answer": "-"} for _ in turns],
            "expect": {},
        }
    )


LATEST = scenario("What is Marketing's latest expense?")


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeAnthropic, str]]:
    fake = FakeAnthropic()
    with serve_on_loopback(fake) as url:
        yield fake, url


@pytest.fixture
def fake(served: tuple[FakeAnthropic, str]) -> FakeAnthropic:
    served[0].reset(assistant)
    return served[0]


@pytest.fixture
def settings(served: tuple[FakeAnthropic, str]) -> GatewaySettings:
    return fast_settings(base_url=served[1])


@pytest.fixture
async def agents(anyio_backend: str) -> AsyncIterator[Callable[[LiveAgent], LiveAgent]]:
    """Closes the agents a test opens (a live agent owns its gateway's HTTP client)."""
    opened: list[LiveAgent] = []

    def keep(agent: LiveAgent) -> LiveAgent:
        opened.append(agent)
        return agent

    yield keep
    for agent in opened:
        await agent.aclose()


async def hold(agent: LiveAgent, url: str, conversation: Scenario = LATEST, trial: int = 1) -> Transcript:
    transcript = Transcript()
    target = ServerTarget(url, "acme", TODAY)
    try:
        async with open_client(target, Transport.MEMORY, Confirm.DECLINE) as client:
            await agent.converse(conversation, ToolSession(client, transcript), transcript, trial)
    except BaseExceptionGroup as group:  # the MCP client's task groups wrap what the agent raised
        raise _only(group) from None
    return transcript


def _only(group: BaseExceptionGroup[BaseException]) -> BaseException:
    [error] = group.exceptions
    return _only(error) if isinstance(error, BaseExceptionGroup) else error


def tool_results(request: Recorded) -> list[dict[str, Any]]:
    return [block for block in request.json()["messages"][-1]["content"] if block["type"] == "tool_result"]


def same(transcript: Transcript) -> tuple[Any, ...]:
    """A transcript without the timings, which differ from run to run."""
    calls = [(c.tool, c.arguments, c.is_error, c.structured, c.text, c.turn) for c in transcript.calls]
    usage = (transcript.input_tokens, transcript.output_tokens, transcript.cost_usd, transcript.model_calls)
    return calls, transcript.messages, usage


async def test_the_model_picks_a_tool_and_answers_from_its_real_result(
    fake: FakeAnthropic, settings: GatewaySettings, seeded_url: str, agents: Callable[[LiveAgent], LiveAgent]
) -> None:
    agent = agents(live_agent(settings))

    transcript = await hold(agent, seeded_url)

    [call] = transcript.calls
    assert (call.tool, call.arguments, call.is_error, call.turn) == (
        "search_expenses",
        {"team": "Marketing", "limit": 2},
        False,
        0,
    )
    first = call.structured["items"][0]
    assert [(m.role, m.text) for m in transcript.messages] == [
        ("user", LATEST.user.turns[0]),
        ("assistant", f"The latest is {first['id']}: {first['amount_company']['amount']} EUR."),
    ]
    assert (transcript.input_tokens, transcript.output_tokens, transcript.model_calls) == (200, 30, 2)
    assert transcript.cost_usd == Decimal("0.00035")  # Haiku: 1 USD / M tokens in, 5 out
    assert (agent.kind, agent.provider, agent.model) == ("live", "anthropic", "claude-haiku-4-5")


async def test_the_model_is_offered_the_servers_own_tools_and_reads_back_its_answers(
    fake: FakeAnthropic, settings: GatewaySettings, seeded_url: str, agents: Callable[[LiveAgent], LiveAgent]
) -> None:
    transcript = await hold(agents(live_agent(settings)), seeded_url)

    asked, answered = fake.script.received
    async with open_client(
        ServerTarget(seeded_url, "acme", TODAY), Transport.MEMORY, Confirm.DECLINE
    ) as client:
        listed = (await client.list_tools()).tools
    offered = asked.json()
    assert offered["tools"] == [
        {"name": tool.name, "description": tool.description, "input_schema": tool.input_schema}
        for tool in listed
    ]
    assert offered["tool_choice"] == {"type": "auto"}
    assert "Today is Tuesday 2026-06-30." in offered["system"]
    [result] = tool_results(answered)
    [call] = transcript.calls
    assert (result["tool_use_id"], result["is_error"]) == ("toolu_0001_2", False)
    text, structured = result["content"].split(f"\n\n{JSON_MARK}")
    assert (text, json.loads(structured)) == (call.text, call.structured)


async def test_a_tool_error_goes_back_to_the_model_as_an_error(
    fake: FakeAnthropic, settings: GatewaySettings, seeded_url: str, agents: Callable[[LiveAgent], LiveAgent]
) -> None:
    fake.script.then(
        Blocks((UseTool("get_expense", {"id": "EXP-999999"}),)), TextAnswer("There is no such one.")
    )

    transcript = await hold(agents(live_agent(settings)), seeded_url)

    [call] = transcript.calls
    assert call.is_error
    [result] = tool_results(fake.script.received[1])
    assert (result["is_error"], result["content"]) == (True, call.text)
    assert call.text.startswith("id: get_expense has no such argument; did you mean expense_id?\n")
    assert transcript.final_answer == "There is no such one."


async def test_bedrock_drives_the_same_conversation(
    fake: FakeAnthropic,
    served: tuple[FakeAnthropic, str],
    seeded_url: str,
    agents: Callable[[LiveAgent], LiveAgent],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    fake_aws_credentials(monkeypatch, tmp_path)
    bedrock = fast_settings(
        base_url=served[1], provider="bedrock", bedrock_region="eu-west-1", model=BEDROCK_MODEL
    )

    transcript = await hold(agents(live_agent(bedrock)), seeded_url)

    assert [call.tool for call in transcript.calls] == ["search_expenses"]
    assert transcript.final_answer.startswith("The latest is EXP-")
    assert transcript.cost_usd == Decimal("0.00035")
    assert {request.path for request in fake.script.received} == {f"/model/{BEDROCK_MODEL}/invoke"}


async def test_rate_limits_are_retried_and_the_conversation_goes_on(
    fake: FakeAnthropic, settings: GatewaySettings, seeded_url: str, agents: Callable[[LiveAgent], LiveAgent]
) -> None:
    fake.script.then(rate_limited(0.01), rate_limited(0.01))

    transcript = await hold(agents(live_agent(settings)), seeded_url)

    assert transcript.final_answer.startswith("The latest is EXP-")
    assert transcript.model_calls == 2  # answers, not attempts
    first, retried, answered, _ = fake.script.received
    assert first.body == retried.body == answered.body


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [({"max_attempts": 2}, "retries_exhausted"), ({"provider": "none"}, "not_configured")],
)
async def test_a_provider_that_gives_no_answer_is_an_infrastructure_error(
    fake: FakeAnthropic,
    served: tuple[FakeAnthropic, str],
    seeded_url: str,
    agents: Callable[[LiveAgent], LiveAgent],
    overrides: dict[str, Any],
    reason: str,
) -> None:
    fake.reset(server_error(503))
    agent = agents(live_agent(fast_settings(base_url=served[1], **overrides)))

    with pytest.raises(InfrastructureError, match=reason):
        await hold(agent, seeded_url)


async def test_a_turn_with_too_many_tool_calls_ends_with_a_note(
    fake: FakeAnthropic, settings: GatewaySettings, seeded_url: str, agents: Callable[[LiveAgent], LiveAgent]
) -> None:
    fake.reset(always_searching)
    agent = agents(LiveAgent(GatewayModel(ModelGateway(settings), owned=True), max_calls=3))

    transcript = await hold(agent, seeded_url, scenario("Find everything.", "Again, please."))

    assert [call.turn for call in transcript.calls] == [0, 0, 0, 1, 1, 1]
    assert [m.text for m in transcript.messages if m.role == "assistant"] == [
        "[stopped: over 3 tool calls]"
    ] * 2
    assert transcript.model_calls == 8  # per turn: three calls asked one by one, then a fourth refused


async def test_the_simulated_user_answers_the_agent_until_it_says_stop(
    fake: FakeAnthropic, settings: GatewaySettings, seeded_url: str, agents: Callable[[LiveAgent], LiveAgent]
) -> None:
    conversation = scenario("What is Marketing's latest expense?", instruction=PERSONA)

    transcript = await hold(agents(live_agent(settings, simulated_user=True)), seeded_url, conversation)

    said = [(m.role, m.text.split(":")[0]) for m in transcript.messages]
    assert said == [
        ("user", "What is Marketing's latest expense?"),
        ("assistant", "The latest is EXP-000090"),
        ("user", "And Sales?"),
        ("assistant", f"The latest is {transcript.calls[1].structured['items'][0]['id']}"),
    ]
    assert [call.arguments["team"] for call in transcript.calls] == ["Marketing", "Sales"]
    assert transcript.model_calls == 6  # agent 2 + user 1, agent 2 + user 1 (###STOP###)
    user_side = [request.json() for request in fake.script.received if not request.json().get("tools")]
    assert len(user_side) == 2
    assert PERSONA in user_side[0]["system"]
    assert user_side[0]["messages"][0]["content"].count("You: What is Marketing's latest expense?") == 1
    assert f"Assistant: {transcript.messages[1].text}" in user_side[0]["messages"][0]["content"]


async def test_without_the_simulated_user_the_script_is_followed(
    fake: FakeAnthropic, settings: GatewaySettings, seeded_url: str, agents: Callable[[LiveAgent], LiveAgent]
) -> None:
    conversation = scenario("Marketing's latest?", "And Sales?", instruction=PERSONA)

    transcript = await hold(agents(live_agent(settings)), seeded_url, conversation)

    assert [m.text for m in transcript.messages if m.role == "user"] == ["Marketing's latest?", "And Sales?"]
    assert all(request.json().get("tools") for request in fake.script.received)


async def test_a_recorded_run_replays_identically_with_the_provider_gone(
    seeded_url: str, agents: Callable[[LiveAgent], LiveAgent], tmp_path: Path
) -> None:
    conversation = scenario("What is Marketing's latest expense?", instruction=PERSONA)
    with serve_on_loopback(FakeAnthropic(assistant)) as url:
        recorder = agents(live_agent(fast_settings(base_url=url), record=tmp_path, simulated_user=True))
        recorded = await hold(recorder, seeded_url, conversation, trial=2)

    replayer = replay_agent(tmp_path)
    replayed = await hold(replayer, seeded_url, conversation, trial=2)

    assert same(replayed) == same(recorded)
    assert (replayer.kind, replayer.provider, replayer.model) == ("replay", "anthropic", "claude-haiku-4-5")
    cassette = json.loads((tmp_path / "latest-expense" / "trial-2.json").read_text())
    assert (cassette["format"], cassette["provider"], cassette["model"]) == (
        "outlay.eval.recording/1",
        "anthropic",
        "claude-haiku-4-5",
    )
    assert [exchange["role"] for exchange in cassette["exchanges"]] == ["agent", "agent", "user"] * 2


async def test_a_changed_request_makes_the_recording_stale(
    fake: FakeAnthropic,
    settings: GatewaySettings,
    seeded_url: str,
    agents: Callable[[LiveAgent], LiveAgent],
    tmp_path: Path,
) -> None:
    await hold(agents(live_agent(settings, record=tmp_path)), seeded_url)
    replayer = replay_agent(tmp_path)

    with pytest.raises(
        InfrastructureError, match=r"recording is stale .*request 1 .*re-record with --record"
    ):
        await hold(replayer, seeded_url, scenario("What is Sales' latest expense?"))
    with pytest.raises(InfrastructureError, match=r"recording is missing .*re-record with --record"):
        await hold(replayer, seeded_url, trial=2)
    assert len((await hold(replayer, seeded_url)).calls) == 1  # the recorded request itself still replays


async def test_a_trial_that_breaks_off_leaves_no_recording(
    fake: FakeAnthropic,
    settings: GatewaySettings,
    seeded_url: str,
    agents: Callable[[LiveAgent], LiveAgent],
    tmp_path: Path,
) -> None:
    recorder = agents(live_agent(settings.model_copy(update={"max_attempts": 1}), record=tmp_path))
    await hold(recorder, seeded_url)
    fake.reset(server_error(500))

    with pytest.raises(InfrastructureError):
        await hold(recorder, seeded_url)

    assert not (tmp_path / "latest-expense" / "trial-1.json").exists()


def test_the_digest_is_canonical_and_covers_what_decides_the_answer() -> None:
    tool = Tool("search_expenses", "List expenses.", {"type": "object", "properties": {"a": {}, "b": {}}})
    reordered = Tool(
        "search_expenses", "List expenses.", {"properties": {"b": {}, "a": {}}, "type": "object"}
    )
    turns = (UserText("hi"), ModelTurn("", (ToolUse("toolu_1", "search_expenses", {"x": 1, "y": 2}),)))
    chat = Chat("system", turns, (tool,))

    assert digest(chat, "agent") == digest(Chat("system", turns, (reordered,)), "agent")
    assert digest(chat, "agent") != digest(chat, "user")
    assert digest(chat, "agent") != digest(
        Chat("system", turns, (Tool(tool.name, "Other.", tool.input_schema),)), "agent"
    )
    assert digest(chat, "agent") != digest(Chat("system", turns[:1], (tool,)), "agent")
