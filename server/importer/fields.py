"""Parsers for one cell each: take the stripped text, return the value or raise `ValueError` with a
message for the `file:line: column: message` report."""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from typing import TypeVar

import iso18245

from server.errors import InvalidArgument
from server.kit.approval_policy import EMAIL_PATTERN, ROLE_PATTERN
from server.kit.countries import country_code
from server.kit.money import MoneyError, currency_exponent, normalize_currency, to_minor
from server.kit.periods import parse_period

E = TypeVar("E", bound=enum.Enum)
T = TypeVar("T")

SLUG = re.compile(r"[a-z0-9-]{2,64}")
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
AMOUNT = re.compile(r"-?[0-9]+(\.[0-9]+)?")
PERCENT = re.compile(r"[0-9]+(\.[0-9]+)?")
MCC = re.compile(r"[0-9]{4}")


def text(max_length: int) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if len(raw) > max_length:
            raise ValueError(f"longer than {max_length} characters")
        return raw

    return parse


def slug(raw: str) -> str:
    if not SLUG.fullmatch(raw):
        raise ValueError(f"{raw!r} is not a valid slug (2 to 64 of a-z, 0-9 and '-')")
    return raw


def email(raw: str) -> str:
    """E-mails are compared case-insensitively, so they are kept in lower case."""
    if len(raw) > 320 or not EMAIL_PATTERN.fullmatch(raw):
        raise ValueError(f"{raw!r} is not an e-mail address")
    return raw.lower()


def role(raw: str) -> str:
    if len(raw) > 64 or not ROLE_PATTERN.fullmatch(raw):
        raise ValueError(f"{raw!r} is not a role in lower snake case (e.g. 'employee', 'it_lead')")
    return raw


@cache
def date(raw: str) -> dt.date:
    try:
        if DATE.fullmatch(raw):
            return dt.date.fromisoformat(raw)
    except ValueError:
        pass
    raise ValueError(f"{raw!r} is not a date (YYYY-MM-DD)")


def timestamp(raw: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{raw!r} is not an ISO 8601 timestamp (2026-03-04T09:15:00+00:00)") from None
    if value.tzinfo is None:
        raise ValueError(f"{raw!r} has no UTC offset (write it like 2026-03-04T09:15:00+00:00)")
    return value.astimezone(dt.UTC)


def boolean(raw: str) -> bool:
    lowered = raw.lower()
    if lowered not in ("true", "false"):
        raise ValueError(f"{raw!r} is not true or false")
    return lowered == "true"


def choice(kind: type[E]) -> Callable[[str], E]:
    """A member of a string enum, by value (case-insensitive)."""
    members = {str(member.value): member for member in kind}
    allowed = ", ".join(members)

    def parse(raw: str) -> E:
        member = members.get(raw) or members.get(raw.lower())
        if member is None:
            raise ValueError(f"{raw!r} is not one of: {allowed}")
        return member

    return parse


@cache
def currency(raw: str) -> str:
    try:
        return normalize_currency(raw)
    except MoneyError as error:  # "unknown ISO 4217 currency code 'EURO'", "'XAU' is not a spendable ..."
        raise ValueError(str(error)) from None


def country(raw: str) -> str:
    """ISO 3166-1 alpha-2, upper-cased ("'UK' is not an ISO 3166-1 alpha-2 country code; did you mean
    'GB'?")."""
    return country_code(raw)


@cache
def amount(code: str) -> Callable[[str], int]:
    """Minor units of `code`; more decimals than the currency has is an error, never rounded."""

    def parse(raw: str) -> int:
        if not AMOUNT.fullmatch(raw):
            raise ValueError(f"{raw!r} is not an amount (digits with a decimal point, e.g. -1234.50)")
        try:
            return to_minor(raw, code)
        except MoneyError:
            decimals = currency_exponent(code)
            raise ValueError(f"{raw} has more than {decimals} decimals, the most {code} allows") from None

    return parse


def decimal_text(raw: str) -> Decimal:
    """Only checks the shape of an amount, when its currency is unknown."""
    if not AMOUNT.fullmatch(raw):
        raise ValueError(f"{raw!r} is not an amount (digits with a decimal point, e.g. -1234.50)")
    return Decimal(raw)


def share(raw: str) -> float:
    """A number above 0 and at most 1, e.g. 0.95."""
    value = Decimal(raw) if PERCENT.fullmatch(raw) else None
    if value is None or not 0 < value <= 1:
        raise ValueError(f"{raw!r} is not a number above 0 and at most 1 (e.g. 0.95)")
    return float(value)


def vat_rate_bp(raw: str) -> int:
    """A percentage as basis points: '5.5' -> 550."""
    value = Decimal(raw) if PERCENT.fullmatch(raw) else None
    if value is None or value > 100:
        raise ValueError(f"{raw!r} is not a percentage from 0 to 100 (e.g. 20 or 5.5)")
    basis_points = value * 100
    if basis_points != basis_points.to_integral_value():
        raise ValueError(f"{raw!r} has more than 2 decimals")
    return int(basis_points)


@cache
def mcc(raw: str) -> str:
    if not MCC.fullmatch(raw):
        raise ValueError(f"{raw!r} is not a 4-digit merchant category code")
    try:
        iso18245.get_mcc(raw)
    except iso18245.MCCNotFound:
        raise ValueError(f"{raw!r} is not a known ISO 18245 merchant category code") from None
    return raw


def mcc_list(raw: str) -> tuple[str, ...]:
    codes = raw.split()
    return tuple(dict.fromkeys(mcc(code) for code in codes))


def period(raw: str) -> tuple[dt.date, dt.date]:
    """First and last day of `2026`, `2026-Q3` or `2026-07`."""
    try:
        parsed = parse_period(raw)
    except InvalidArgument as exc:
        raise ValueError(str(exc)) from None
    return parsed.start, parsed.end


def positive_int(raw: str) -> int:
    if not re.fullmatch(r"[0-9]{1,9}", raw) or int(raw) < 1:
        raise ValueError(f"{raw!r} is not a whole number from 1 up")
    return int(raw)


def quietly(parse: Callable[[str], T], raw: str) -> T | None:
    """The parsed value, or None when it is empty or bad (its problem is reported by another check)."""
    try:
        return parse(raw) if raw else None
    except ValueError:
        return None
