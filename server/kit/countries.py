"""A company's country (ISO 3166-1 alpha-2) and its public holidays, from the `holidays` package.

`holidays` takes ~0.1 s to import and ~0.15 s for a country's first year: it loads on first use (an
import, a forecast), never at server start, and each country's years are computed once per process."""

from __future__ import annotations

import datetime as dt
from functools import cache

# Codes people write for a country that ISO spells otherwise (`holidays` takes UK as an alias: not ISO).
COMMON_MISTAKES = {"UK": "GB", "EL": "GR"}


class CountryError(ValueError):
    """Not a country code the holiday calendars know."""


@cache
def known_countries() -> frozenset[str]:
    """The ISO 3166-1 alpha-2 codes with a public-holiday calendar (every assigned code, and XK)."""
    import holidays

    supported = holidays.list_supported_countries()
    return frozenset(code for code in supported if len(code) == 2 and code not in COMMON_MISTAKES)


def country_code(raw: str) -> str:
    """The upper-case ISO 3166-1 alpha-2 code of `raw`, or CountryError saying what is wrong."""
    code = raw.strip().upper()
    if code in known_countries():
        return code
    message = f"{raw!r} is not an ISO 3166-1 alpha-2 country code"
    if hint := COMMON_MISTAKES.get(code):
        raise CountryError(f"{message}; did you mean {hint!r}?")
    raise CountryError(f"{message} (two letters, such as GB, US or DE)")


@cache
def public_holidays(country: str, year: int) -> frozenset[dt.date]:
    """The country's national public holidays of `year` (regional ones, such as a German state's, are
    not counted: a company's spend follows the national calendar)."""
    import holidays

    try:
        return frozenset(holidays.country_holidays(country, years=year))
    except NotImplementedError:  # a code stored by a newer release of the package
        return frozenset()
