"""Names and e-mail addresses for Acme's people, drawn from Faker seeded per instance.

Munich and Berlin teams are mostly German with the mix of nationalities a robotics employer there
has; London, New York and Paris teams are mostly local. E-mail local parts are ASCII
(Jürgen Weiß -> juergen.weiss@acme.example); a second Anna Schmidt becomes anna.schmidt2.
"""

from __future__ import annotations

import random
import re
import unicodedata

from faker import Faker

DOMAIN = "acme.example"

_MIXES: dict[str, tuple[tuple[str, float], ...]] = {
    "DE": (
        ("de_DE", 62),
        ("it_IT", 6),
        ("en_GB", 5),
        ("fr_FR", 5),
        ("es_ES", 5),
        ("pl_PL", 5),
        ("tr_TR", 5),
        ("en_US", 3),
        ("nl_NL", 2),
        ("en_IN", 2),
    ),
    "GB": (("en_GB", 72), ("en_IN", 8), ("fr_FR", 5), ("it_IT", 5), ("es_ES", 4), ("pl_PL", 4), ("de_DE", 2)),
    "US": (("en_US", 85), ("es_ES", 6), ("en_IN", 5), ("de_DE", 4)),
    "FR": (("fr_FR", 85), ("de_DE", 5), ("it_IT", 5), ("es_ES", 5)),
}
_LOCALES = ("de_DE", "en_GB", "en_US", "fr_FR", "it_IT", "es_ES", "pl_PL", "tr_TR", "nl_NL", "en_IN")
# Letters NFKD does not reduce to ASCII, and the German convention for umlauts (ü -> ue, not u).
_TRANSLITERATION = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ø": "o", "æ": "ae", "ł": "l", "đ": "d", "ı": "i", "œ": "oe"}
)


def ascii_slug(text: str) -> str:
    """`Hans-Jürgen` -> `hans-juergen`, `van der Berg` -> `van-der-berg`."""
    folded = text.lower().translate(_TRANSLITERATION)
    plain = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]+", "-", plain).strip("-")


class NameMaker:
    """Hands out unique (name, email) pairs; one instance per generated company."""

    def __init__(self, seed: int, rng: random.Random) -> None:
        self._fake = Faker(list(_LOCALES))
        self._fake.seed_instance(seed)
        self._rng = rng
        self._taken: set[str] = set()  # membership only, never iterated: order stays deterministic
        self._mixes = {country: _cumulative(mix) for country, mix in _MIXES.items()}

    def person(self, country: str) -> tuple[str, str]:
        locales, weights = self._mixes.get(country, self._mixes["DE"])
        locale = self._rng.choices(locales, cum_weights=weights)[0]
        first, last = self._fake[locale].first_name(), self._fake[locale].last_name()
        return f"{first} {last}", self._email(first, last)

    def _email(self, first: str, last: str) -> str:
        base = f"{ascii_slug(first)}.{ascii_slug(last)}"
        local, counter = base, 1
        while local in self._taken:
            counter += 1
            local = f"{base}{counter}"
        self._taken.add(local)
        return f"{local}@{DOMAIN}"


def _cumulative(mix: tuple[tuple[str, float], ...]) -> tuple[list[str], list[float]]:
    total, cumulative = 0.0, []
    for _, weight in mix:
        total += weight
        cumulative.append(total)
    return [locale for locale, _ in mix], cumulative
