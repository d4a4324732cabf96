"""`ModelGateway.converse`: an agent's step, where the model picks its tools — text and/or several
tool calls back, tool results (errors too) sent on, under the same guard, budget and accounting as
structured answers, with no cache and no redaction."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from server.fakes.anthropic import FakeAnthropic
from server.fakes.checks import request_problems
from server.fakes.script import Answer, Blocks, TextAnswer, UseTool, rate_limited, server_error
from server.gateway import (
    BudgetExhausted,
    ChatAnswer,
    CircuitOpen,
    ModelGateway,
    ModelTurn,
    NotConfigured,
    RequestRejected,
    RetriesExhausted,
    Tool,
    ToolResult,
    ToolResults,
    ToolUse,
    UserText,
)
from tests.gateway.conftest import BEDROCK_MODEL, total

pytestmark = pytest.mark.anyio
SEARCH = Tool(
    "search_expenses",
    "List the company's expenses that match the filters.",
    {"type": "object", "properties": {"team": {"type": "string"}}},
)
SUMMARIZE = Tool("summarize_spend", "Totals by category.", {"type": "object", "properties": {}})
QUESTION = UserText("What did Marketing spend on Uber?")


async def converse(gateway: ModelGateway, *turns: Any, **kwargs: Any) -> ChatAnswer:
    kwargs.setdefault("company", "acme")
    return await gateway.converse("You help.", turns or (QUESTION,), (SEARCH, SUMMARIZE), **kwargs)


async def test_the_model_may_answer_with_text_and_several_tool_calls(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic
) -> None:
    fake_llm.script.then(
        Blocks(("Two looks.", UseTool("search_expenses", {"team": "Marketing"}), UseTool("summarize_spend")))
    )

    answer = await converse(make_gateway())

    assert answer.turn == ModelTurn(
        "Two looks.",
        (
            ToolUse("toolu_0001_2", "search_expenses", {"team": "Marketing"}),
            ToolUse("toolu_0001_3", "summarize_spend", {}),
        ),
    )
    assert answer.stop_reason == "tool_use"
    [request] = fake_llm.script.received
    body = request.json()
    assert body["tool_choice"] == {"type": "auto"}
    assert body["system"] == "You help."
    assert body["tools"] == [
        {"name": tool.name, "description": tool.description, "input_schema": tool.input_schema}
        for tool in (SEARCH, SUMMARIZE)
    ]
    assert body["messages"] == [{"role": "user", "content": QUESTION.text}]


async def test_tool_results_go_back_with_their_errors_and_the_model_ends_its_turn(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic
) -> None:
    fake_llm.script.then(TextAnswer("Marketing spent 302.13 EUR at Uber."))
    asked = ModelTurn("", (ToolUse("toolu_1", "search_expenses", {}), ToolUse("toolu_2", "nope", {})))
    results = ToolResults(
        (
            ToolResult("toolu_1", "1 expense: EXP-000090, 302.13 EUR"),
            ToolResult("toolu_2", "Unknown tool", True),
        )
    )

    answer = await converse(make_gateway(), QUESTION, asked, results)

    assert (answer.turn, answer.stop_reason) == (ModelTurn("Marketing spent 302.13 EUR at Uber."), "end_turn")
    messages = fake_llm.script.received[0].json()["messages"]
    assert messages[1:] == [
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "toolu_1", "name": "search_expenses", "input": {}},
                {"type": "tool_use", "id": "toolu_2", "name": "nope", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": "1 expense: EXP-000090, 302.13 EUR",
                    "is_error": False,
                },
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_2",
                    "content": "Unknown tool",
                    "is_error": True,
                },
            ],
        },
    ]


async def test_a_silent_model_turn_is_sent_back_as_something_the_api_accepts(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic
) -> None:
    fake_llm.script.then(TextAnswer("Which team?"))

    await converse(make_gateway(), QUESTION, ModelTurn(""), UserText("Marketing."))

    assert fake_llm.script.received[0].json()["messages"][1] == {
        "role": "assistant",
        "content": [{"type": "text", "text": "(no answer)"}],
    }


async def test_a_conversation_the_api_would_refuse_is_rejected_and_never_retried(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic
) -> None:
    orphan = ToolResults((ToolResult("toolu_9", "data"),))

    with pytest.raises(RequestRejected) as rejected:
        await converse(make_gateway(max_attempts=3), QUESTION, ModelTurn("Looking."), orphan)

    assert rejected.value.status == 400
    assert len(fake_llm.script.received) == 1


async def test_tokens_and_cost_are_accounted_and_the_budget_applies(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic, metrics: InMemoryMetricReader
) -> None:
    gateway = make_gateway(daily_token_budget=150)
    fake_llm.script.then(TextAnswer("Hello.", input_tokens=1000, output_tokens=200))

    answer = await converse(gateway, label="eval_agent")

    assert (answer.input_tokens, answer.output_tokens) == (1000, 200)
    assert answer.cost_usd == Decimal("0.002")  # Haiku: 1 USD / M in, 5 USD / M out
    assert (answer.provider, answer.model, answer.retries) == ("anthropic", "claude-haiku-4-5", 0)
    assert total(metrics, "outlay.gateway.tokens", direction="input") == 1000
    assert total(metrics, "outlay.gateway.calls", outcome="ok") == 1
    with pytest.raises(BudgetExhausted):
        await converse(gateway)
    assert len(fake_llm.script.received) == 1


async def test_the_same_step_asked_twice_is_asked_twice_and_nothing_is_redacted(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic
) -> None:
    gateway = make_gateway()
    personal = UserText("Expenses of maria.garcia@acme.example, card 4111 1111 1111 1111?")
    fake_llm.reset(TextAnswer("None."))

    first = await converse(gateway, personal)
    second = await converse(gateway, personal)

    assert first.turn == second.turn == ModelTurn("None.")
    assert [request.json()["messages"][0]["content"] for request in fake_llm.script.received] == [
        personal.text,
        personal.text,
    ]


async def test_rate_limits_are_retried_then_answered(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic, metrics: InMemoryMetricReader
) -> None:
    fake_llm.script.then(rate_limited(0.01), server_error(503), TextAnswer("Done."))

    answer = await converse(make_gateway(max_attempts=3))

    assert (answer.turn.text, answer.retries) == ("Done.", 2)
    assert len(fake_llm.script.received) == 3
    assert total(metrics, "outlay.gateway.retries", reason="rate_limited") == 1


async def test_a_provider_that_keeps_failing_opens_the_circuit(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic
) -> None:
    gateway = make_gateway(max_attempts=2, breaker_failures=2)
    fake_llm.reset(server_error(500))

    with pytest.raises(RetriesExhausted):
        await converse(gateway)
    with pytest.raises(CircuitOpen):
        await converse(gateway)

    assert len(fake_llm.script.received) == 2


async def test_without_a_provider_nothing_is_sent(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic
) -> None:
    with pytest.raises(NotConfigured):
        await converse(make_gateway(provider="none"))

    assert fake_llm.script.received == []


async def test_bedrock_converses_on_its_invoke_route(
    make_gateway: Callable[..., ModelGateway],
    fake_llm: FakeAnthropic,
    aws_chain: None,
) -> None:
    fake_llm.script.then(Answer({"team": "Marketing"}))  # calls the first tool offered: SEARCH
    gateway = make_gateway(provider="bedrock", bedrock_region="eu-west-1", model=BEDROCK_MODEL)

    answer = await converse(gateway)

    assert answer.turn == ModelTurn("", (ToolUse("toolu_0001", "search_expenses", {"team": "Marketing"}),))
    assert (answer.provider, answer.model) == ("bedrock", BEDROCK_MODEL)
    [request] = fake_llm.script.received
    assert request.path == f"/model/{BEDROCK_MODEL}/invoke"
    assert request.json()["tool_choice"] == {"type": "auto"}


HEADERS = {"anthropic-version": "2023-06-01"}


def problems(messages: list[dict[str, Any]], **body: Any) -> list[str]:
    return request_problems(
        {"model": "m", "max_tokens": 5, "messages": messages, **body}, bedrock=False, headers=HEADERS
    )


def test_the_fake_accepts_a_well_formed_tool_conversation() -> None:
    tools = [{"name": "search_expenses", "input_schema": {"type": "object"}}]
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "hi"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "t1", "name": "search_expenses", "input": {}}],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "x", "is_error": True}],
        },
    ]

    assert problems(messages, tools=tools, tool_choice={"type": "auto"}) == []


@pytest.mark.parametrize(
    ("messages", "body", "problem"),
    [
        (
            [
                {"role": "user", "content": "hi"},
                {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": "t1", "name": "s", "input": {}}],
                },
                {"role": "user", "content": "and?"},
            ],
            {"tools": [{"name": "s"}]},
            "a tool_use is not answered by a tool_result in the next message",
        ),
        (
            [
                {"role": "user", "content": "hi"},
                {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": "t1", "name": "s", "input": {}}],
                },
            ],
            {},
            "requests which include tool_use blocks must define tools",
        ),
        ([{"role": "user", "content": "hi"}], {"tool_choice": {"type": "auto"}}, "tool_choice may only be"),
        (
            [{"role": "user", "content": "hi"}],
            {"tools": [{"name": "s"}], "tool_choice": {"type": "some"}},
            "type",
        ),
        (
            [{"role": "user", "content": [{"type": "text", "text": ""}]}],
            {},
            "text content blocks must be non-empty",
        ),
        ([{"role": "user", "content": []}], {}, "a message has no content"),
    ],
)
def test_the_fake_refuses_malformed_tool_conversations(
    messages: list[dict[str, Any]], body: dict[str, Any], problem: str
) -> None:
    [found] = problems(messages, **body)

    assert problem in found
