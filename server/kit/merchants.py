"""Merchants as the books read them: a name derived from a raw card-statement descriptor, the key that
tells two spellings of one merchant apart, and what a merchant category code (MCC) means.

Deriving a merchant name (a first, deliberately simple rule):

1. upper-case and collapse whitespace;
2. drop a payment-processor prefix: PAYPAL *, PP *, SQ *, SP *, TST*, SUMUP *, ZETTLE *, IZ *;
3. keep what comes before the first remaining `*` (`UBER *TRIP HELP.UBER.COM` -> `UBER`);
4. drop trailing store numbers and ids: tokens that contain a digit or are `#`, then a left-over
   `STORE`/`NO`/`NR` before them (`STARBUCKS STORE #1234` -> `STARBUCKS`);
5. trim spaces and ` -_,:;#/*` left at the ends; if nothing is left, use step 1's text.

`merchant_key` goes further, for telling whether two spellings are one merchant (company category
rules, the categorizer's merchant history): more processor prefixes, no legal forms, trailing places
or outlet words, no spaces or punctuation.
"""

from __future__ import annotations

import re
from functools import lru_cache

import iso18245

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


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Letters of any Latin script; digits never make a word (store numbers, references, dates).
WORD = re.compile(r"[^\W\d_]{2,}")
_PART = re.compile(r"[^\W_]+")
_OUTLET = frozenset({"STORE", "STORES", "SHOP", "BRANCH"})
PROCESSOR = re.compile(
    r"^(?:PAYPAL|PP|SQ|SP|TST|SUMUP|ZETTLE|IZ|DD|GOOGLE|APPLE\.COM/BILL|FS|CKO|2CO|PY|WPY|AMZN MKTP)"
    r" ?[*_] ?"
)
# Legal forms and filler that say nothing about what was bought.
FILLER = _words(
    """
    LTD LT LIMIT LIMITED PLC GMBH MBH AG KG SE SA SAS SARL SRL SPA BV NV AB AS OY INC LLC LLP CORP CO
    COM WWW HTTP HTTPS THE AND UND DER DIE DAS OF
    """
)
# Places printed at the end of descriptors: countries, US states and the cities acquirers print most.
PLACES = _words(
    """
    GB UK DE AT CH FR ES IT NL BE LU PT IE DK SE NO FI PL CZ US USA CA AU NZ JP SG HK AE IN CN AL AK AZ
    AR CO CT DC FL GA HI IA ID IL KS KY LA MA MD ME MI MN MO MS MT NC ND NE NH NJ NM NV NY OH OK OR PA
    RI SC SD TN TX UT VA VT WA WI WV WY LONDON MANCHESTER BIRMINGHAM LEEDS GLASGOW EDINBURGH BRISTOL
    LIVERPOOL SHEFFIELD NEWCASTLE CARDIFF BELFAST NOTTINGHAM LEICESTER BRADFORD HALIFAX HUDDERSFIELD
    WAKEFIELD YORK CAMBRIDGE OXFORD READING BERLIN MUENCHEN MUNCHEN MUNICH HAMBURG KOELN KOLN COLOGNE
    FRANKFURT STUTTGART DUESSELDORF DUSSELDORF DORTMUND ESSEN LEIPZIG DRESDEN HANNOVER HANOVER NUERNBERG
    NURNBERG NUREMBERG BREMEN BONN MANNHEIM KARLSRUHE AUGSBURG WIESBADEN MAINZ AACHEN FREIBURG
    HEIDELBERG POTSDAM ULM WIEN VIENNA GRAZ SALZBURG LINZ INNSBRUCK ZURICH ZUERICH GENEVA GENEVE BASEL
    BERN LAUSANNE PARIS LYON MARSEILLE NICE TOULOUSE BORDEAUX LILLE NANTES STRASBOURG MADRID BARCELONA
    VALENCIA SEVILLA MALAGA BILBAO LISBOA LISBON PORTO MILANO MILAN ROMA ROME TORINO TURIN NAPOLI
    FIRENZE BOLOGNA VENEZIA AMSTERDAM ROTTERDAM UTRECHT EINDHOVEN BRUSSEL BRUXELLES BRUSSELS ANTWERPEN
    DUBLIN COPENHAGEN KOBENHAVN STOCKHOLM OSLO HELSINKI WARSZAWA WARSAW KRAKOW PRAHA PRAGUE BUDAPEST NEW
    SAN LOS LAS SANTA FRANCISCO ANGELES YORK VEGAS DIEGO JOSE SEATTLE BOSTON CHICAGO AUSTIN DENVER
    ATLANTA MIAMI DALLAS HOUSTON PHOENIX PORTLAND TORONTO VANCOUVER MONTREAL SYDNEY MELBOURNE TOKYO
    SINGAPORE DUBAI
    """
)


@lru_cache(maxsize=65536)
def merchant_key(name: str) -> str:
    """One spelling per merchant: `B & Q 1371` and `B&Q PLC` are `BQ`, `Uber` and `UBER *TRIP` `UBER`,
    `Starbucks Store 1234 London GB` is `STARBUCKS`: the importer's merchant name (processor prefix,
    `*` suffix and store numbers gone), without legal forms, trailing places, spaces and punctuation."""
    cleaned = " ".join(name.upper().split())
    parts = [p for p in _PART.findall(normalize_merchant(PROCESSOR.sub("", cleaned))) if p not in FILLER]
    while len(parts) > 1 and (
        parts[-1] in PLACES or parts[-1] in _OUTLET or any(c.isdigit() for c in parts[-1])
    ):
        parts.pop()
    return "".join(parts) or cleaned


@lru_cache(maxsize=1024)
def mcc_description(mcc: str | None) -> str | None:
    """The ISO 18245 description; remembered, since the library scans its CSV table on every lookup."""
    if not mcc:
        return None
    try:
        found = iso18245.get_mcc(mcc)
    except (iso18245.MCCNotFound, iso18245.InvalidMCC, ValueError):
        return None
    return found.iso_description or found.visa_description or found.mastercard_description or None
