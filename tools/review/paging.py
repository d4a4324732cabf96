"""Pages of findings behind a signed cursor. A review's findings always come in the same order (from the
findings cache or reviewed again: docs/review.md#findings-cache), so a cursor is an offset, signed with
the company and a digest of the arguments: it cannot be forged, replayed with other arguments, or
carried to another company."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from server.errors import InvalidArgument
from server.kit.selection import DAMAGED_CURSOR, FOREIGN_CURSOR, signed, verified

VERSION = 1


def digest(arguments: dict[str, Any]) -> str:
    canonical = json.dumps(arguments, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def encode(secret: bytes, company_id: int, arguments: dict[str, Any], offset: int) -> str:
    return signed(secret, {"v": VERSION, "c": company_id, "f": digest(arguments), "o": offset, "k": "review"})


def decode(secret: bytes, company_id: int, arguments: dict[str, Any], cursor: str) -> int:
    """The offset a cursor resumes at; `InvalidArgument` unless it was issued for these arguments."""
    payload = verified(secret, cursor)
    if payload.get("v") != VERSION or payload.get("k") != "review":
        raise InvalidArgument(DAMAGED_CURSOR)
    if payload["c"] != company_id or payload["f"] != digest(arguments):
        raise InvalidArgument(FOREIGN_CURSOR)
    return int(payload["o"])
