"""Serve an ASGI app on a free 127.0.0.1 port from a background thread (tests and demos).

A thread of its own, with its own event loop, so that a fake which stalls never blocks the code under
test, whichever event loop (or none) that code runs on.
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2
import uvicorn
from starlette.types import ASGIApp

_STARTUP_SECONDS = 10.0


def wait_until_ready(
    url: str, process: subprocess.Popen[bytes], *, seconds: float, log: Path | None = None
) -> None:
    """Until `url`/readyz answers 200 (an `outlay serve --transport http` started in `process`); an error
    naming `log`, where its output goes, when it exits or is not ready within `seconds`."""
    where = f"; its output is in {log}" if log else ""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"outlay serve exited with {process.returncode}{where}")
        try:
            if httpx2.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"outlay serve was not ready at {url} after {seconds:g} s{where}")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (for a server started in another process)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_on_loopback(app: ASGIApp, *, port: int = 0) -> Iterator[str]:
    """Yields the base URL (`http://127.0.0.1:PORT`) while `app` is served; stops it on exit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        lifespan="off",
        # A stalled handler must not hold the shutdown for long: it is a fake, its work is worthless.
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        _wait_started(server, thread)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join()
        sock.close()


def _wait_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + _STARTUP_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the loopback server did not start")
        time.sleep(0.01)
