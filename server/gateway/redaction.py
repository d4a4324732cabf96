"""Personal data out of text before it leaves for a provider.

Card numbers (Luhn-checked), IBANs, e-mail addresses, phone numbers and the names of the company's
employees become placeholders such as `<EMAIL_1>`. Within one `Redaction` (one model call) the same
value always gets the same placeholder, so the model can still tell two people apart, and
`restore` can put the originals back into the answer.

    redactor = Redactor(["Maria Garcia", "Tom Baker"])   # the caller's employees; build once, reuse
    redaction = redactor.session()
    redaction.redact("Lunch with Maria Garcia, maria@acme.com")  # 'Lunch with <NAME_1>, <EMAIL_1>'

Names are matched as whole names (in either order, "Garcia, Maria" too) and, when written with a
capital, as single first or last names ("Lunch w/ Maria"): a leak costs more than an over-redaction.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Country code, check digits, then 11-30 letters and digits, in groups of four with optional spaces.
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
_DIGIT_RUN = re.compile(r"\d(?:[ -]?\d)*")
_PHONES = (
    re.compile(r"(?<![\w+])(?:\+|00)\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,6}(?!\d)"),  # international
    re.compile(r"(?<!\d)(?:\(\d{3}\) ?|\d{3}[-. ])\d{3}[-. ]\d{4}(?!\d)"),  # North American
    re.compile(r"(?<![\d.])0\d{1,4}(?:[ /.-]\d{2,8}){1,4}(?!\d)"),  # national, with a trunk 0
)
# Any run of digits that a label calls a phone number, separators or not ("tel 4155552671").
_LABELLED_PHONE = re.compile(
    r"\b(?:phone|tel|telephone|mobile|mob|cell|fax|call|whatsapp)\b\W{0,3}(\+?\d[\d ().-]{5,}\d)",
    re.IGNORECASE,
)
_DATE_LIKE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}")
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_NAME_GAP = re.compile(r"\s+|\s*[,'’]\s*")
_PLACEHOLDER = re.compile(r"<(?:EMAIL|IBAN|CARD|PHONE|NAME)_\d+>")


@dataclass(frozen=True, order=True)
class Finding:
    start: int
    end: int
    kind: str
    key: str  # what makes two findings the same value (digits only, case-folded names)


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _emails(text: str) -> Iterator[Finding]:
    for m in _EMAIL.finditer(text):
        yield Finding(m.start(), m.end(), "EMAIL", m.group().casefold())


def _ibans(text: str) -> Iterator[Finding]:
    for m in _IBAN.finditer(text):
        compact = m.group().replace(" ", "")
        if len(_digits(compact[4:])) >= 6:  # an IBAN's account part is mostly digits; words are not
            yield Finding(m.start(), m.end(), "IBAN", compact)


def _cards(text: str) -> Iterator[Finding]:
    """13-19 digits passing Luhn, alone or as consecutive groups inside a longer run of digit groups."""
    for run in _DIGIT_RUN.finditer(text):
        groups = [(m.start() + run.start(), m.end() + run.start()) for m in re.finditer(r"\d+", run.group())]
        yield from _card_in_groups(text, groups)


def _card_in_groups(text: str, groups: list[tuple[int, int]]) -> Iterator[Finding]:
    for size in range(len(groups), 0, -1):
        for first in range(len(groups) - size + 1):
            start, end = groups[first][0], groups[first + size - 1][1]
            digits = _digits(text[start:end])
            if 13 <= len(digits) <= 19 and luhn_valid(digits):
                yield Finding(start, end, "CARD", digits)
                return


def _phones(text: str) -> Iterator[Finding]:
    matches = [m.span() for pattern in _PHONES for m in pattern.finditer(text)]
    matches += [m.span(1) for m in _LABELLED_PHONE.finditer(text)]
    for start, end in matches:
        digits = _digits(text[start:end])
        if 7 <= len(digits) <= 15 and not _DATE_LIKE.fullmatch(text[start:end]):
            yield Finding(start, end, "PHONE", digits)


class Redactor:
    """Detects personal data; holds the company's employee names. Immutable, safe to share."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self._full: dict[tuple[str, ...], str] = {}  # tokens as written -> the name in its own order
        self._parts: set[str] = set()
        for name in names:
            tokens = tuple(_fold(t) for t in _WORD.findall(name))
            if len(tokens) >= 2:
                written_in_order = " ".join(tokens)
                self._full[tokens] = written_in_order
                self._full[(tokens[-1], *tokens[:-1])] = written_in_order  # "Garcia, Maria"
            self._parts.update(t for t in tokens if len(t) >= 2)
        self._longest = max((len(t) for t in self._full), default=1)

    def session(self) -> Redaction:
        return Redaction(self)

    def find(self, text: str) -> list[Finding]:
        """Non-overlapping findings in text order; at one position the longest match wins."""
        found = sorted(
            [*_emails(text), *_ibans(text), *_cards(text), *_phones(text), *self._names(text)],
            key=lambda f: (f.start, f.start - f.end),
        )
        kept: list[Finding] = []
        for finding in found:
            if not kept or finding.start >= kept[-1].end:
                kept.append(finding)
        return kept

    def _names(self, text: str) -> Iterator[Finding]:
        words = list(_WORD.finditer(text))
        index = 0
        while index < len(words):
            size, name = self._full_name_at(text, words, index)
            if name:
                yield Finding(words[index].start(), words[index + size - 1].end(), "NAME", name)
                index += size
                continue
            word = words[index].group()
            if word[0].isupper() and _fold(word) in self._parts:
                yield Finding(words[index].start(), words[index].end(), "NAME", _fold(word))
            index += 1

    def _full_name_at(self, text: str, words: list[re.Match[str]], index: int) -> tuple[int, str | None]:
        """The longest known full name starting at word `index`: (its length in words, the name)."""
        for size in range(min(self._longest, len(words) - index), 1, -1):
            window = words[index : index + size]
            gaps = (text[a.end() : b.start()] for a, b in itertools.pairwise(window))
            name = self._full.get(tuple(_fold(w.group()) for w in window))
            if name and all(_NAME_GAP.fullmatch(gap) for gap in gaps):
                return size, name
        return 0, None


@dataclass
class Redaction:
    """Placeholders of one call: stable within it, so the answer can be restored."""

    redactor: Redactor
    _by_key: dict[tuple[str, str], str] = field(default_factory=dict)
    _originals: dict[str, str] = field(default_factory=dict)
    _counts: dict[str, int] = field(default_factory=dict)

    def redact(self, text: str) -> str:
        pieces, position = [], 0
        for finding in self.redactor.find(text):
            pieces += [text[position : finding.start], self._placeholder(finding, text)]
            position = finding.end
        pieces.append(text[position:])
        return "".join(pieces)

    def _placeholder(self, finding: Finding, text: str) -> str:
        key = (finding.kind, finding.key)
        if key not in self._by_key:
            self._counts[finding.kind] = self._counts.get(finding.kind, 0) + 1
            placeholder = f"<{finding.kind}_{self._counts[finding.kind]}>"
            self._by_key[key] = placeholder
            self._originals[placeholder] = text[finding.start : finding.end]
        return self._by_key[key]

    def restore(self, text: str) -> str:
        return _PLACEHOLDER.sub(lambda m: self._originals.get(m.group(), m.group()), text)

    @property
    def count(self) -> int:
        """How many distinct values were replaced (logged, never the values)."""
        return len(self._by_key)
