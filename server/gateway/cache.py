"""The key of an answer already paid for: (company, template hash, model, answer schema, redacted
inputs). The answers themselves are kept in process or on Redis (`server.shared`), for a TTL."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping


def cache_key(*parts: str | Mapping[str, str]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
