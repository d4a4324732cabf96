"""Card-statement descriptors: the raw, messy text a merchant name arrives as.

Templates use placeholders so that one merchant shows up under many strings, as on real statements:

    {s4}    a store or terminal number: a few fixed ones per merchant and city (the same Starbucks
            shows up again and again), not a fresh number on every line
    {t7}    transaction digits that differ on every line (ticket numbers, order numbers)
    {r6}    a transaction reference of upper-case letters and digits (Amazon's AMZN Mktp DE*2K4L83)
    {CITY}  the city in the local spelling acquirers print (MUENCHEN, WIEN), {City} title-cased
    {CC}    the country code

Acquirers cut the merchant field at 25 characters, so long templates get truncated like real ones.
"""

from __future__ import annotations

import random
import re
import zlib
from dataclasses import dataclass

from server.demo.model import City

MAX_LENGTH = 25
_ALNUM = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
_FIELD = re.compile(r"\{([str])(\d+)\}|\{(CITY|City|CC)\}")
_LOCAL_NAMES = {
    "MUC": "MUENCHEN",
    "NUE": "NUERNBERG",
    "HAJ": "HANNOVER",
    "CGN": "KOELN",
    "VIE": "WIEN",
    "MIL": "MILANO",
    "LIS": "LISBOA",
}
_STORES_PER_CITY = 3


@dataclass(frozen=True, slots=True)
class _Field:
    kind: str
    width: int


_Part = str | _Field
# A template without placeholders (most of them) compiles to its final text.
_compiled: dict[str, str | tuple[_Part, ...]] = {}


def _compile(template: str) -> str | tuple[_Part, ...]:
    parts: list[_Part] = []
    position = 0
    for match in _FIELD.finditer(template):
        parts.append(template[position : match.start()])
        if match.group(3):
            parts.append(_Field(match.group(3), 0))
        else:
            parts.append(_Field(match.group(1), int(match.group(2))))
        position = match.end()
    parts.append(template[position:])
    if len(parts) == 1:
        return template[:MAX_LENGTH].rstrip()
    return tuple(part for part in parts if part != "")


def city_label(city: City) -> str:
    return _LOCAL_NAMES.get(city.code, city.name.upper())


def _store_number(key: str, width: int, rng: random.Random) -> str:
    # crc32, not hash(): stable across processes, and store numbers need not depend on the seed.
    store = rng.randrange(_STORES_PER_CITY)
    return f"{zlib.crc32(f'{key}#{store}'.encode()) % 10**width:0{width}d}"


def _value(part: _Field, key: str, city: City, rng: random.Random) -> str:
    if part.kind == "s":
        return _store_number(key, part.width, rng)
    if part.kind == "t":
        return f"{rng.randrange(10**part.width):0{part.width}d}"
    if part.kind == "r":
        return "".join(rng.choices(_ALNUM, k=part.width))
    if part.kind == "CITY":
        return city_label(city)
    if part.kind == "City":
        return city_label(city).title()
    return city.country


def render(template: str, merchant: str, city: City, rng: random.Random) -> str:
    """One statement line for a charge at `merchant` in `city`."""
    parts = _compiled.get(template)
    if parts is None:
        parts = _compiled[template] = _compile(template)
    if isinstance(parts, str):
        return parts
    key = f"{merchant}|{city.code}"
    text = "".join(part if isinstance(part, str) else _value(part, key, city, rng) for part in parts)
    return text[:MAX_LENGTH].rstrip()
