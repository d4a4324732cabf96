"""Pages of findings behind a signed cursor. Findings are computed anew on every call and always in the
same order, so a cursor is an offset, signed with the company and a digest of the arguments: it cannot
be forged, replayed with other arguments, or carried to another company."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from server.errors import InvalidArgument
from server.kit.selection import DAMAGED_CURSOR, FOREIGN_CURSOR

VERSION = 1
_SIGNATURE_BYTES = 32


def digest(arguments: dict[str, Any]) -> str:
    canonical = json.dumps(arguments, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def encode(secret: bytes, company_id: int, arguments: dict[str, Any], offset: int) -> str:
    payload = {"v": VERSION, "c": company_id, "f": digest(arguments), "o": offset, "k": "review"}
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    signature = hmac.new(secret, body, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(body + signature).decode().rstrip("=")


def decode(secret: bytes, company_id: int, arguments: dict[str, Any], cursor: str) -> int:
    """The offset a cursor resumes at; `InvalidArgument` unless it was issued for these arguments."""
    text = cursor.strip()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidArgument(DAMAGED_CURSOR) from None
    body, signature = raw[:-_SIGNATURE_BYTES], raw[-_SIGNATURE_BYTES:]
    if not body or not hmac.compare_digest(signature, hmac.new(secret, body, hashlib.sha256).digest()):
        raise InvalidArgument(DAMAGED_CURSOR)
    payload = json.loads(body)
    if payload.get("v") != VERSION or payload.get("k") != "review":
        raise InvalidArgument(DAMAGED_CURSOR)
    if payload["c"] != company_id or payload["f"] != digest(arguments):
        raise InvalidArgument(FOREIGN_CURSOR)
    return int(payload["o"])
