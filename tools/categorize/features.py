"""What the categorizer knows about one expense, and the tokens its model reads.

A card descriptor is normalized the way a bookkeeper reads it: `PAYPAL *SPOTIFY 35314369001`,
`SQ *BLUE BOTTLE #12 SAN FRANCISCO CA` and `Starbucks Store 1234 London GB` lose the payment processor,
the store and transaction numbers and the place, so that what is left names the merchant.

Tokens are plain strings (`m:UBER`, `w:uber`, `c:4121`, ...). The model is linear over them, so
everything it can learn is in this list:

    m:KEY          the merchant (its normalized key): history, when the merchant was seen
    w:word         descriptor words, g:xxxx their character 4-grams (`HOTEL`, `TAXI` in unseen names)
    u:word, v:a_b  memo words and word pairs ("dinner with", "laptop for"); `nomemo` when there is none
    c:MCC          the merchant category code, r:NNNN its ISO 18245 range, d:word its description
    k:CODE         a company category that lists this MCC in its `mcc_codes`
    a:N            amount band (log2 of the amount in company currency), `refund` when negative
    t:TEAM         the team charged; crosses team-MCC, team-merchant, MCC-band, merchant-band
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

import iso18245

from server.kit.merchants import FILLER, PLACES, PROCESSOR, WORD

_MCC_WORDS_MIN = 3


@dataclass(frozen=True, slots=True)
class ExpenseFacts:
    """What the categorizer may look at; `amount` is in company currency, major units, signed."""

    descriptor: str
    merchant: str | None = None
    mcc: str | None = None
    memo: str | None = None
    amount: float = 0.0
    team: str | None = None


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


@lru_cache(maxsize=65536)
def _text_tokens(descriptor: str) -> tuple[str, ...]:
    words = [w.lower() for w in descriptor_words(descriptor)]
    grams = {f" {w} "[i : i + 4] for w in words for i in range(len(w) - 1)}
    return (*(f"w:{w}" for w in words), *(f"g:{g}" for g in sorted(grams)))


@lru_cache(maxsize=65536)
def _memo_tokens(memo: str) -> tuple[str, ...]:
    words = [w.lower() for w in WORD.findall(memo)]
    if not words:
        return ("nomemo",)
    return (*(f"u:{w}" for w in words), *(f"v:{a}_{b}" for a, b in pairwise(words)))


def amount_band(amount: float) -> int:
    return int(math.log2(abs(amount) + 1.0))


def tokens(facts: ExpenseFacts, key: str, mcc_categories: Mapping[str, Sequence[str]]) -> list[str]:
    """The model's view of one expense; `key` is its merchant key (see `merchant_key`)."""
    band = amount_band(facts.amount)
    found = [f"m:{key}", f"a:{band}", f"mb:{key}:{band}"]
    found += _text_tokens(facts.descriptor)
    found += _memo_tokens(facts.memo or "")
    if facts.amount < 0:
        found.append("refund")
    if facts.mcc:
        found += (f"c:{facts.mcc}", f"cb:{facts.mcc}:{band}", *mcc_words(facts.mcc))
        found += (f"k:{code}" for code in mcc_categories.get(facts.mcc, ()))
    if facts.team:
        found += (f"t:{facts.team}", f"tc:{facts.team}:{facts.mcc}", f"tm:{facts.team}:{key}")
    return found
