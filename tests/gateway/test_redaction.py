"""Personal data never leaves: cards (Luhn), IBANs, e-mails, phones and employees' names."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest

from server.fakes.anthropic import FakeAnthropic
from server.fakes.script import Answer
from server.gateway import ModelGateway, Redactor
from server.gateway.redaction import luhn_valid
from tests.gateway.conftest import GOOD, ask

pytestmark = pytest.mark.anyio
EMPLOYEES = ["Maria Garcia", "Tom Baker", "Sean O'Brien", "José Núñez"]
PERSONAL = [
    "4111 1111 1111 1111",
    "5500-0000-0000-0004",
    "378282246310005",
    "DE89 3704 0044 0532 0130 00",
    "GB29NWBK60161331926819",
    "maria.garcia@acme.example",
    "+49 30 1234567",
    "(415) 555-2671",
    "020 7946 0958",
    "0044 20 7946 0958",
    "+33 6 12 34 56 78",
    "555-123-4567",
    "mobile 4155552671",
    "Maria Garcia",
    "Garcia, Maria",
    "Baker",
    "Sean O'Brien",
    "José Núñez",
]


def redact(text: str, names: list[str] = EMPLOYEES) -> str:
    return Redactor(names).session().redact(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("card 4111 1111 1111 1111 exp 12/26", "card <CARD_1> exp 12/26"),
        ("paid with 4111111111111111.", "paid with <CARD_1>."),
        ("IBAN DE89 3704 0044 0532 0130 00 ok", "IBAN <IBAN_1> ok"),
        ("to GB29NWBK60161331926819", "to <IBAN_1>"),
        ("mail Maria.Garcia@acme.example now", "mail <EMAIL_1> now"),
        ("call +1-202-555-0143", "call <PHONE_1>"),
        ("call (415) 555-2671 or 415.555.2671", "call <PHONE_1> or <PHONE_1>"),
        ("Büro 030/1234567", "Büro <PHONE_1>"),
        ("mobile: 4155552671, UK 07700 900123", "mobile: <PHONE_1>, UK <PHONE_2>"),
        ("Lunch with Maria Garcia and Tom", "Lunch with <NAME_1> and <NAME_2>"),
        ("Garcia, Maria; maria garcia", "<NAME_1>; <NAME_1>"),
        ("taxi for Sean O'Brien's team", "taxi for <NAME_1>'s team"),
        ("dinner, Jose Nunez", "dinner, <NAME_1>"),
    ],
)
def test_personal_data_becomes_placeholders(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "order 4111 1111 1111 1112",  # fails the Luhn check: a reference, not a card
        "invoice 2026-0042 of 2026-07-15, 05.07.2026",
        "1234.50 EUR, 3 nights, 12/26",
        "UBER *TRIP HELP.UBER.COM",
        "Marriott Berlin Mitte, room 1204",
        "the maria class, a tom-tom",  # lower-case words that happen to be first names
    ],
)
def test_business_text_stays_as_it_is(text: str) -> None:
    assert redact(text) == text


def test_luhn() -> None:
    assert luhn_valid("4111111111111111")
    assert luhn_valid("378282246310005")
    assert not luhn_valid("4111111111111112")


def test_placeholders_are_stable_within_a_call_and_restorable() -> None:
    redaction = Redactor(EMPLOYEES).session()

    first = redaction.redact("Maria Garcia paid 4111 1111 1111 1111")
    second = redaction.redact("refund to 4111-1111-1111-1111 for Maria Garcia; cc tom.baker@acme.example")

    assert first == "<NAME_1> paid <CARD_1>"
    assert second == "refund to <CARD_1> for <NAME_1>; cc <EMAIL_1>"
    assert redaction.restore("<NAME_1> used <CARD_1>") == "Maria Garcia used 4111 1111 1111 1111"
    assert redaction.count == 3


async def test_no_personal_data_reaches_the_provider(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic, caplog: pytest.LogCaptureFixture
) -> None:
    memo = "Dinner with " + "; ".join(PERSONAL)
    fake_llm.script.then(Answer({"category": "GROCERIES"}))  # forces a repair: two requests
    caplog.set_level(logging.DEBUG)

    await ask(make_gateway(), memo, redactor=Redactor(EMPLOYEES))

    # Decoded, so that an escaped "Jos\u00e9" would be caught as "José".
    sent = " ".join(json.dumps(request.json(), ensure_ascii=False) for request in fake_llm.script.received)
    assert len(fake_llm.script.received) == 2
    leaked = [value for value in PERSONAL if value in sent or value.replace(" ", "") in sent]
    assert leaked == []
    assert "<CARD_1>" in sent
    assert "<NAME_1>" in sent
    logged = " ".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert [value for value in PERSONAL if value in logged] == []


async def test_the_answer_gets_the_originals_back(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic
) -> None:
    fake_llm.script.then(*[Answer({**GOOD, "reason": "<NAME_1> took a taxi."})] * 2)

    answer = await ask(make_gateway(), "Taxi, Maria Garcia", redactor=Redactor(EMPLOYEES))
    kept = await ask(make_gateway(), "Taxi, Maria Garcia", redactor=Redactor(EMPLOYEES), restore=False)

    assert answer.value.reason == "Maria Garcia took a taxi."
    assert kept.value.reason == "<NAME_1> took a taxi."
