"""What replicas behind one balancer must share beyond the database: the keys that seal `requestState`
(the SDK's multi-round-trip state, such as a pending confirmation), so that the retry of a request may
land on any replica. Without keys each process seals with its own, which only suits one replica."""

from __future__ import annotations

from mcp.server.request_state import RequestStateSecurity
from pydantic import SecretStr


def request_state_security(keys: list[SecretStr]) -> RequestStateSecurity | None:
    """Sealed with the first key, opened with any (rotation: add the new key second, then swap)."""
    if not keys:
        return None
    return RequestStateSecurity(keys=[key.get_secret_value() for key in keys])
