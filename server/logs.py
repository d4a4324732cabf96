"""Structured logs on stderr (stdout carries the protocol in stdio mode)."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

# uvicorn adds `color_message` (the message with ANSI colours) to its records.
_STANDARD_ATTRS = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD_ATTRS})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(f"{k}={v}" for k, v in record.__dict__.items() if k not in _STANDARD_ATTRS)
        line = f"{record.levelname.lower()} {record.name}: {record.getMessage()} {extras}".rstrip()
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure_logging(level: str, fmt: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's access log would repeat what the tool-call line says, with less.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # Personal data has no place in logs: aiosqlite logs every statement's parameters at DEBUG, and the
    # SDK logs each refused call's message (which quotes the arguments) at INFO, repeating our own
    # call line. Alembic narrates every schema check at INFO. Their warnings and errors still show.
    for noisy in ("aiosqlite", "mcp.server.mcpserver", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
