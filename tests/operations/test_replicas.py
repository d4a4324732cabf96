"""Replicas share the requestState keys: what one seals, another opens; a per-process key would not."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from server.http.replicas import request_state_security
from server.settings import Settings

KEY = "k" * 40


def test_state_sealed_by_one_replica_opens_on_another_with_the_same_keys() -> None:
    first = request_state_security([SecretStr(KEY)])
    second = request_state_security([SecretStr("n" * 40), SecretStr(KEY)])  # mid-rotation: new key first
    assert first is not None
    assert second is not None

    assert second.codec.unseal(first.codec.seal(b"pending confirmation")) == b"pending confirmation"


def test_without_keys_each_process_keeps_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTLAY_REQUEST_STATE_KEYS", f'["{KEY}"]')

    assert request_state_security([]) is None
    assert [key.get_secret_value() for key in Settings().request_state_keys] == [KEY]
