"""Deriving a merchant name from a raw card-statement descriptor (a first, deliberately simple rule).

1. upper-case and collapse whitespace;
2. drop a payment-processor prefix: PAYPAL *, PP *, SQ *, SP *, TST*, SUMUP *, ZETTLE *, IZ *;
3. keep what comes before the first remaining `*` (`UBER *TRIP HELP.UBER.COM` -> `UBER`);
4. drop trailing store numbers and ids: tokens that contain a digit or are `#`, then a left-over
   `STORE`/`NO`/`NR` before them (`STARBUCKS STORE #1234` -> `STARBUCKS`);
5. trim spaces and ` -_,:;#/*` left at the ends; if nothing is left, use step 1's text.
"""

from __future__ import annotations

import re
from functools import lru_cache

MAX_LENGTH = 200
PROCESSOR_PREFIX = re.compile(r"^(?:PAYPAL|PP|SQ|SP|TST|SUMUP|ZETTLE|IZ) ?\* ?")
NUMBER_WORDS = frozenset({"STORE", "NO", "NO.", "NR", "NR.", "#"})
EDGE_PUNCTUATION = " -_,:;#/*"


@lru_cache(maxsize=65536)
def normalize_merchant(descriptor: str) -> str:
    """A stable merchant name for grouping expenses: `SQ *BLUE BOTTLE #12` -> `BLUE BOTTLE`."""
    cleaned = " ".join(descriptor.upper().split())
    name = PROCESSOR_PREFIX.sub("", cleaned).split("*", 1)[0]
    tokens = name.split()
    dropped = False
    while tokens and (tokens[-1] == "#" or any(char.isdigit() for char in tokens[-1])):
        tokens.pop()
        dropped = True
    if dropped and tokens and tokens[-1] in NUMBER_WORDS:
        tokens.pop()
    result = " ".join(tokens).strip(EDGE_PUNCTUATION)
    return (result or cleaned)[:MAX_LENGTH]
