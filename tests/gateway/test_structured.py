"""Structured answers: a forced tool with the answer's schema, validation, one repair, a typed failure."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from server.fakes.anthropic import FakeAnthropic
from server.fakes.checks import request_problems
from server.fakes.demo import schema_answer
from server.fakes.script import Answer, TextAnswer
from server.gateway import InvalidAnswer, ModelGateway, PromptError
from server.gateway.prompts import PromptLibrary
from tests.gateway.conftest import CODES, GOOD, TEMPLATES, Guess, ask

pytestmark = pytest.mark.anyio


async def test_an_answer_is_validated_and_traceable(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic
) -> None:
    answer = await ask(make_gateway())

    assert answer.value == Guess.model_validate(GOOD)
    assert (answer.template, answer.template_hash) == (
        "classify",
        PromptLibrary(TEMPLATES).get("classify").hash,
    )
    assert (answer.provider, answer.model) == ("anthropic", "claude-haiku-4-5")
    assert (answer.cached, answer.repaired, answer.retries) == (False, False, 0)
    assert (answer.input_tokens, answer.output_tokens) == (100, 20)
    assert answer.cost_usd == Decimal("0.0002")  # 100 x $1 + 20 x $5 per million tokens


async def test_the_request_forces_one_tool_whose_schema_closes_the_choices(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic
) -> None:
    await ask(make_gateway(), "Taxi to the airport")

    [request] = fake_llm.script.received
    body = request.json()
    assert request.path == "/v1/messages"
    assert body["tool_choice"] == {"type": "tool", "name": "record_guess"}
    [tool] = body["tools"]
    assert tool["name"] == "record_guess"
    assert tool["description"] == "Record the category of one expense."
    assert tool["input_schema"]["properties"]["category"]["enum"] == CODES
    assert tool["input_schema"]["required"] == ["category", "confidence", "reason"]
    assert body["system"] == "You file one expense under one of the company's categories."
    assert body["messages"] == [
        {"role": "user", "content": "Expense: Taxi to the airport\nCategories: TRAVEL, MEALS, SOFTWARE"}
    ]
    assert request.headers["x-stainless-retry-count"] == "0"  # the SDK's own retries are off


@pytest.mark.parametrize(
    "wrong",
    [
        Answer({"category": "TRAVEL", "confidence": 7, "reason": "sure"}),  # out of range
        Answer({"category": "GROCERIES", "confidence": 0.5, "reason": "food"}),  # not a listed choice
        Answer({"category": "TRAVEL"}),  # fields missing
        Answer(["not", "an", "object"]),
        TextAnswer("It is travel."),  # prose instead of the tool
    ],
)
async def test_an_off_schema_answer_is_repaired_once(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic, wrong: Answer | TextAnswer
) -> None:
    fake_llm.script.then(wrong)

    answer = await ask(make_gateway())

    assert answer.value == Guess.model_validate(GOOD)
    assert answer.repaired
    assert answer.input_tokens == 200  # both answers are paid for
    first, repair = fake_llm.script.received
    messages = repair.json()["messages"]
    assert messages[0] == first.json()["messages"][0]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert "record_guess again" in str(messages[2]["content"])


async def test_the_repair_shows_the_model_its_own_tool_call_and_the_problems(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic
) -> None:
    fake_llm.script.then(Answer({"category": "GROCERIES", "confidence": 0.5, "reason": "food"}))

    await ask(make_gateway())

    _, assistant, feedback = fake_llm.script.received[1].json()["messages"]
    [call] = assistant["content"]
    assert (call["type"], call["name"], call["input"]["category"]) == (
        "tool_use",
        "record_guess",
        "GROCERIES",
    )
    [result] = feedback["content"]
    assert (result["type"], result["tool_use_id"], result["is_error"]) == ("tool_result", call["id"], True)
    assert "category: must be one of the listed values" in result["content"]


async def test_a_second_off_schema_answer_is_a_typed_failure(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic
) -> None:
    fake_llm.script.then(Answer({"category": "TRAVEL"}), Answer({"confidence": "high"}))

    with pytest.raises(InvalidAnswer) as failure:
        await ask(make_gateway())

    assert len(fake_llm.script.received) == 2
    assert failure.value.problems == [
        "category: Field required",
        "confidence: Input should be a valid number, unable to parse string as a number",
        "reason: Field required",
    ]


async def test_a_template_that_lacks_an_input_fails_before_any_request(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic
) -> None:
    gateway = make_gateway()

    with pytest.raises(PromptError, match=r"missing \['options'\]"):
        await gateway.structured("classify", {"text": "x"}, Guess, company="acme")
    with pytest.raises(PromptError, match="no prompt template 'nope'"):
        await gateway.structured("nope", {}, Guess, company="acme")
    assert fake_llm.script.received == []


def test_the_fake_refuses_what_the_real_api_would() -> None:
    hello = {"role": "user", "content": "hi"}
    ok = {"model": "m", "max_tokens": 5, "messages": [hello]}
    headers = {"anthropic-version": "2023-06-01"}
    orphan_result = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": [{"type": "text", "text": "?"}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "x"}]},
    ]

    assert request_problems(ok, bedrock=False, headers=headers) == []
    assert request_problems(ok, bedrock=False, headers={}) != []
    assert request_problems(ok, bedrock=True, headers=headers) == ["anthropic_version: required on Bedrock"]
    assert request_problems({**ok, "messages": orphan_result}, bedrock=False, headers=headers) == [
        "a tool_result answers no tool_use of the previous message"
    ]
    assert request_problems({**ok, "messages": [hello, hello]}, bedrock=False, headers=headers) == [
        "roles must alternate from user: ['user', 'user']"
    ]
    unknown_tool = {**ok, "tool_choice": {"type": "tool", "name": "x"}}
    assert request_problems(unknown_tool, bedrock=False, headers=headers) == [
        "tool_choice names an unknown tool 'x'"
    ]


async def test_the_demo_fake_answers_any_schema_validly(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic
) -> None:
    fake_llm.reset(schema_answer)

    answer = await ask(make_gateway())

    assert answer.value.category in CODES
    assert 0 <= answer.value.confidence <= 1
    assert not answer.repaired
