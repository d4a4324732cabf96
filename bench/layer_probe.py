"""`outlay serve` with a CPU clock on each of its layers, for bench/layers.py:

    python -m bench.layer_probe serve --transport stdio     (OUTLAY_LAYER_PROBE=FILE)

Each layer's entry points (below) are wrapped; the main thread's CPU (`time.thread_time`) is charged to
the innermost layer running, and a layer marked as owning (tenancy, audit) keeps what runs beneath it
(its SQLAlchemy and asyncpg work). On SIGUSR1 the server writes the CPU seconds per layer so far into
FILE. What the wrappers do not cover (the SDK's dispatch and transport, the event loop, the stdin
reader's thread) is the process's CPU minus the layers'. Coroutines are clocked from start to end: CPU
that other tasks spend while one awaits is charged to it (one client calling one tool at a time leaves
little of that: the transport's writer after the answer).
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import signal
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

SPENT: defaultdict[str, float] = defaultdict(float)
_stack: list[list[Any]] = []  # [layer, owning, started]


def _enter(layer: str, owning: bool) -> bool:
    if _stack and _stack[-1][1]:
        return False  # beneath an owning layer: its time
    now = time.thread_time()
    if _stack:
        SPENT[_stack[-1][0]] += now - _stack[-1][2]
    _stack.append([layer, owning, now])
    return True


def _leave() -> None:
    now = time.thread_time()
    layer, _, started = _stack.pop()
    SPENT[layer] += now - started
    if _stack:
        _stack[-1][2] = now


def clocked(layer: str, fn: Callable[..., Any], *, owning: bool = False) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            entered = _enter(layer, owning)
            try:
                return await fn(*args, **kwargs)
            finally:
                if entered:
                    _leave()

        return run_async

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        entered = _enter(layer, owning)
        try:
            return fn(*args, **kwargs)
        finally:
            if entered:
                _leave()

    return run


def _patch(owner: Any, name: str, layer: str, *, owning: bool = False) -> None:
    setattr(owner, name, clocked(layer, getattr(owner, name), owning=owning))


def install() -> None:
    import mcp_types.methods
    from mcp.server.mcpserver.tools.base import Tool
    from mcp.server.mcpserver.utilities.func_metadata import FuncMetadata
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, AsyncSessionTransaction

    import server.app  # every tool module, so that their names bound to server.calls can be patched
    import server.calls
    import server.db.tenancy
    from server.audit.trail import AuditedCall

    _patch(Tool, "run", "our logic")  # the tool function; what it calls below is charged to its layer
    _patch(FuncMetadata, "validate_arguments", "argument validation")
    _patch(server.calls, "problem_in", "argument validation")
    # server.calls imports it at the call (SQLAlchemy loads with the first call), from the module
    _patch(server.db.tenancy, "enter_company", "tenancy (role + RLS setup)", owning=True)
    for name in ("__init__", "write_in", "finish"):
        _patch(AuditedCall, name, "audit", owning=True)
    for name in ("execute", "scalar", "scalars", "get", "connection", "close", "commit", "rollback"):
        _patch(AsyncSession, name, "ORM/SQLAlchemy + asyncpg")
    for name in ("__aenter__", "__aexit__"):
        _patch(AsyncSessionTransaction, name, "ORM/SQLAlchemy + asyncpg")
    _patch(AsyncConnection, "execute", "ORM/SQLAlchemy + asyncpg")
    _patch(FuncMetadata, "convert_result", "output serialization")
    _patch(mcp_types.methods, "serialize_server_result", "output serialization")
    for module in [m for name, m in sys.modules.items() if name.startswith("tools.")]:
        if getattr(module, "tool_result", None) is server.calls.tool_result:
            _patch(module, "tool_result", "output serialization")
    _patch(server.calls, "observe_call", "logging/metrics")


def _dump(file: Path) -> None:
    file.write_text(json.dumps({"written": time.time(), "layers": dict(SPENT)}))


def main() -> int:
    from server.cli import main as outlay

    install()
    file = Path(os.environ["OUTLAY_LAYER_PROBE"])
    signal.signal(signal.SIGUSR1, lambda *_: _dump(file))
    return outlay(sys.argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
