"""`outlay serve --transport http` processes with settings of a test's choosing (tests/transports)."""

from __future__ import annotations

from collections.abc import Callable

from tests.transports.conftest import spawn_http_server as spawn  # noqa: F401 - the fixture, as `spawn` here

Spawn = Callable[..., str]
