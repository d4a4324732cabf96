"""Logs on stderr (stdout carries the protocol in stdio mode): JSON lines for machines (the default when
stderr is not a terminal, or `OUTLAY_LOG_FORMAT=json`), `level logger: message key=value` for people
(on a terminal, or `OUTLAY_LOG_FORMAT=text`)."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any, TextIO

from opentelemetry import trace

# uvicorn adds `color_message` (the message with ANSI colours) to its records.
_STANDARD_ATTRS = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}


def trace_ids() -> dict[str, str]:
    """The current span's ids, so a log line can be found from its trace and the other way round."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {"trace_id": format(context.trace_id, "032x"), "span_id": format(context.span_id, "016x")}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD_ATTRS})
        entry.update(trace_ids())
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = {k: v for k, v in record.__dict__.items() if k not in _STANDARD_ATTRS} | trace_ids()
        extras = " ".join(f"{k}={v}" for k, v in fields.items())
        line = f"{record.levelname.lower()} {record.name}: {record.getMessage()} {extras}".rstrip()
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure_logging(level: str, fmt: str, stream: TextIO | None = None) -> None:
    """`fmt` is json, text, or auto: text on a terminal, JSON otherwise."""
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    json_lines = fmt == "json" or (fmt == "auto" and not _is_terminal(stream))
    handler.setFormatter(JsonFormatter() if json_lines else KeyValueFormatter())
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
    # The stateless HTTP transport ends a "session" after every request, and the SDK says so at INFO.
    chatter = logging.getLogger("mcp.server.streamable_http")
    chatter.filters[:] = [f for f in chatter.filters if not isinstance(f, DemoteChatter)]
    chatter.addFilter(DemoteChatter())


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or file-like stream
        return False


class DemoteChatter(logging.Filter):
    """The SDK's per-request "Terminating session: None" (one per HTTP request of the stateless
    transport) becomes a DEBUG record: shown only when the log level is DEBUG."""

    PREFIXES = ("Terminating session",)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or not record.getMessage().startswith(self.PREFIXES):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger().isEnabledFor(logging.DEBUG)
