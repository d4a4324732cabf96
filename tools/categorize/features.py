"""What the categorizer knows about one expense: the tokens its model reads, and the keys of the history
tables it looks the expense up in.

A card descriptor is normalized the way a bookkeeper reads it: `PAYPAL *SPOTIFY 35314369001`,
`SQ *BLUE BOTTLE #12 SAN FRANCISCO CA` and `Starbucks Store 1234 London GB` lose the payment processor,
the store and transaction numbers and the place, so that what is left names the merchant.

Tokens (one weight row each in the model):

    m:KEY, s:raw          the merchant key; the descriptor as printed
    p6:, p10:             the descriptor's first 6 and 10 letters and digits (`amazoncouk` of every
                          `amazon.co.ukji0f47iw5 am`)
    w:word, w0:, g:xxxx   descriptor words, the first one, their character 4-grams (`HOTEL` in new names)
    u:word, v:a_b         memo words and word pairs ("dinner with", "laptop for")
    c:MCC, c2:, r:, d:    the merchant category code, its first two digits, ISO 18245 range and
                          description words; k:CODE: a company category that lists the MCC
    a:N, refund           amount band (log2 of the amount in company currency), a negative amount
    t0:team, t1:parent..  the team charged and each team above it: sub-teams pool their evidence
    cc:CC, cc1: cc2: cc3: the cost centre and its first 1-3 characters (cost-centre codes are hierarchies)
    j:PROJECT, f:name=v   the project, the free dimensions

History tables (`TABLES`) count, per key, how the books categorized the training expenses: the merchant,
the merchant with the cost centre, with the team, with its parent team, with the amount band, the cost
centre, the team, the MCC... The model reads those counts as features of each category
(`tools/categorize/history.py`), and people's corrections since training are added to them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

import iso18245

from server.kit.merchants import FILLER, PLACES, PROCESSOR, WORD, merchant_key

_MCC_WORDS_MIN = 3


@dataclass(frozen=True, slots=True)
class ExpenseFacts:
    """What the categorizer may look at; `amount` is in company currency, major units, signed (it only
    ever chooses an amount band)."""

    descriptor: str
    merchant: str | None = None
    mcc: str | None = None
    memo: str | None = None
    amount: float = 0.0
    team: str | None = None
    parents: tuple[str, ...] = ()  # the teams above `team`, nearest first
    cost_center: str | None = None
    project: str | None = None
    dims: tuple[tuple[str, str], ...] = ()  # free dimensions (name, value), sorted by name


@lru_cache(maxsize=65536)
def descriptor_words(descriptor: str) -> tuple[str, ...]:
    """Upper-case words of the descriptor without processor prefix, numbers, legal forms or places."""
    text = PROCESSOR.sub("", " ".join(descriptor.upper().split()))
    words = [w for w in WORD.findall(text.replace("*", " ")) if w not in FILLER]
    while len(words) > 1 and words[-1] in PLACES:
        words.pop()
    return tuple(words)


@lru_cache(maxsize=4096)
def mcc_words(mcc: str) -> tuple[str, ...]:
    """The ISO 18245 range and description words of an MCC (`r:5800`, `d:eating`, ...)."""
    try:
        found = iso18245.get_mcc(mcc)
    except (iso18245.MCCNotFound, iso18245.InvalidMCC, ValueError):
        return ()
    description = found.iso_description or found.visa_description or found.mastercard_description or ""
    words = {w.lower() for w in WORD.findall(description) if len(w) >= _MCC_WORDS_MIN}
    return (f"r:{found.range.start}", *(f"d:{w}" for w in sorted(words)))


def amount_band(amount: float) -> int:
    return int(math.log2(abs(amount) + 1.0))


def key_of(facts: ExpenseFacts) -> str:
    """The merchant key: the clean name when the books have one, else derived from the descriptor."""
    return merchant_key(facts.merchant or facts.descriptor)


def tokens(facts: ExpenseFacts, mcc_categories: Mapping[str, Sequence[str]]) -> list[str]:
    """The model's view of one expense (module docstring)."""
    found: list[str] = []
    for group in _GROUPS.values():
        found += group(facts, mcc_categories)
    return found


def _key(facts: ExpenseFacts, _: Mapping[str, Sequence[str]]) -> list[str]:
    return [f"m:{key_of(facts)}"]


def _raw(facts: ExpenseFacts, _: Mapping[str, Sequence[str]]) -> list[str]:
    return [f"s:{raw_text(facts)}"]


def _prefix(facts: ExpenseFacts, _: Mapping[str, Sequence[str]]) -> list[str]:
    compact = compact_text(facts.descriptor)
    return [f"p6:{compact[:6]}", f"p10:{compact[:10]}"]


def _words(facts: ExpenseFacts, _: Mapping[str, Sequence[str]]) -> list[str]:
    words = [w.lower() for w in descriptor_words(facts.descriptor)]
    grams = sorted({f" {w} "[i : i + 4] for w in words for i in range(len(w) - 1)})
    return [*(f"w:{w}" for w in words), *([f"w0:{words[0]}"] if words else []), *(f"g:{g}" for g in grams)]


def _memo(facts: ExpenseFacts, _: Mapping[str, Sequence[str]]) -> list[str]:
    words = [w.lower() for w in WORD.findall(facts.memo or "")]
    return [*(f"u:{w}" for w in words), *(f"v:{a}_{b}" for a, b in pairwise(words))]


def _mcc(facts: ExpenseFacts, mcc_categories: Mapping[str, Sequence[str]]) -> list[str]:
    mcc = facts.mcc
    if not mcc:
        return []
    listed = (f"k:{code}" for code in mcc_categories.get(mcc, ()))
    return [f"c:{mcc}", f"c2:{mcc[:2]}", *mcc_words(mcc), *listed]


def _band(facts: ExpenseFacts, _: Mapping[str, Sequence[str]]) -> list[str]:
    return [f"a:{amount_band(facts.amount)}", *(["refund"] if facts.amount < 0 else [])]


def _team(facts: ExpenseFacts, _: Mapping[str, Sequence[str]]) -> list[str]:
    teams = [t for t in (facts.team, *facts.parents) if t]
    return [f"t{i}:{team}" for i, team in enumerate(teams)]


def _cost_center(facts: ExpenseFacts, _: Mapping[str, Sequence[str]]) -> list[str]:
    cc = facts.cost_center
    return [f"cc:{cc}", f"cc1:{cc[:1]}", f"cc2:{cc[:2]}", f"cc3:{cc[:3]}"] if cc else []


def _project(facts: ExpenseFacts, _: Mapping[str, Sequence[str]]) -> list[str]:
    return [f"j:{facts.project}"] if facts.project else []


def _dims(facts: ExpenseFacts, _: Mapping[str, Sequence[str]]) -> list[str]:
    return [f"f:{name}={value}" for name, value in facts.dims]


_GROUPS: dict[str, Callable[[ExpenseFacts, Mapping[str, Sequence[str]]], list[str]]] = {
    "key": _key,
    "raw": _raw,
    "prefix": _prefix,
    "words": _words,
    "memo": _memo,
    "mcc": _mcc,
    "band": _band,
    "team": _team,
    "cc": _cost_center,
    "project": _project,
    "dims": _dims,
}


def raw_text(facts: ExpenseFacts) -> str:
    return " ".join(facts.descriptor.lower().split())


def compact_text(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _first_word(facts: ExpenseFacts) -> str:
    words = descriptor_words(facts.descriptor)
    return words[0].lower() if words else ""


def _band_key(facts: ExpenseFacts) -> str:
    return f"{amount_band(facts.amount)}{'-' if facts.amount < 0 else ''}"


def _with(facts: ExpenseFacts, other: str | None) -> str:
    return f"{key_of(facts)}|{other}" if other else ""


# Each history table: the key of an expense in it ("" = none: no history there).
TABLES: dict[str, Callable[[ExpenseFacts], str]] = {
    "raw": raw_text,
    "key": key_of,
    "key_cc": lambda f: _with(f, f.cost_center),
    "key_team": lambda f: _with(f, f.team),
    "key_parent": lambda f: _with(f, f.parents[0] if f.parents else None),
    "key_band": lambda f: _with(f, _band_key(f)),
    "key_project": lambda f: _with(f, f.project),
    "cc": lambda f: f.cost_center or "",
    "cc_band": lambda f: f"{f.cost_center}|{_band_key(f)}" if f.cost_center else "",
    "team": lambda f: f.team or "",
    "w0_cc": lambda f: f"{_first_word(f)}|{f.cost_center}" if f.cost_center else "",
    "mcc": lambda f: f.mcc or "",
    "team_mcc": lambda f: f"{f.team}|{f.mcc}" if f.team and f.mcc else "",
}
