"""What the logs look like: text for a person at a terminal, JSON lines for machines; the SDK's
per-request chatter only at DEBUG."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from server.cli import INSPECTOR, _connect_help
from server.settings import Settings
from server.telemetry.logs import configure_logging


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Root's handlers, and the levels other tests of the same worker leave on `outlay` loggers (the
    ledger evals quiet `outlay` to WARNING in process): each test here starts from the defaults."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    ours = [logging.getLogger(name) for name in ("outlay", "outlay.categorize")]
    levels = [logger.level for logger in ours]
    for logger in ours:
        logger.setLevel(logging.NOTSET)
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for logger, before in zip(ours, levels, strict=True):
        logger.setLevel(before)


def logged(stream: io.StringIO, fmt: str, level: str = "INFO") -> list[str]:
    configure_logging(level, fmt, stream)
    logging.getLogger("outlay.categorize").info("trained the categorizer", extra={"company": "acme"})
    logging.getLogger("mcp.server.streamable_http").info("Terminating session: None")
    return stream.getvalue().splitlines()


def test_auto_writes_text_on_a_terminal_and_json_elsewhere() -> None:
    assert logged(Terminal(), "auto") == ["info outlay.categorize: trained the categorizer company=acme"]
    [line] = logged(io.StringIO(), "auto")
    assert json.loads(line) | {"ts": None} == {
        "ts": None,
        "level": "info",
        "logger": "outlay.categorize",
        "msg": "trained the categorizer",
        "company": "acme",
    }


def test_json_is_json_on_a_terminal_too_when_asked() -> None:
    [line] = logged(Terminal(), "json")
    assert json.loads(line)["msg"] == "trained the categorizer"


def test_session_termination_is_debug_chatter() -> None:
    debug = logged(Terminal(), "text", "DEBUG")

    assert debug[-1] == "debug mcp.server.streamable_http: Terminating session: None"


def test_the_inspector_command_pins_a_version_that_runs_on_node_20() -> None:
    help_text = _connect_help(Settings(_env_file=None), "dev-token")

    assert f"npx -y {INSPECTOR} --cli http://127.0.0.1:8000/mcp --transport http" in help_text
    assert "claude mcp add --transport http outlay http://127.0.0.1:8000/mcp --header" in help_text
    assert INSPECTOR == "@modelcontextprotocol/inspector@2.12.0"
