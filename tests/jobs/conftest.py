"""Jobs with real processes: `outlay worker`s on one PostgreSQL database, a company imported the way
`outlay import` does it (the demo generator's, large enough that training takes a second or two)."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from server.db.engine import create_engine, create_session_factory
from server.demo import write_demo_company
from server.importer import import_company
from tests.transports.conftest import OUTLAY, server_env
from tools.categorize.commands import train_if_missing

TODAY = dt.date(2026, 6, 30)
# Fast enough for a test to see a dead worker's job move on: heartbeats every half second, a worker
# silent for 3 s is dead, and a failed attempt is retried at once.
QUEUE_ENV = {
    "OUTLAY_JOBS__QUEUE": "postgresql",
    "OUTLAY_JOBS__HEARTBEAT_SECONDS": "0.5",
    "OUTLAY_JOBS__STALLED_SECONDS": "3",
    "OUTLAY_JOBS__BACKOFF_SECONDS": "0",
}


@pytest.fixture(scope="session")
def company_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("jobs-demo")
    write_demo_company(folder, seed=5, employees=40, months=12, today=TODAY, review_cases=False)
    return folder


async def load(url: str, folder: Path, *, train: bool) -> None:
    engine = create_engine(url)
    try:
        sessions = create_session_factory(engine)
        report = await import_company(sessions, folder, actor="test")
        if train:
            await train_if_missing(sessions, report.company_slug)
    finally:
        await engine.dispose()


def postgres_company(make_database: Callable[[str], str], folder: Path, *, train: bool) -> str:
    url = make_database("postgresql")
    asyncio.run(load(url, folder, train=train))
    return url


def outlay(*args: str, url: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [OUTLAY, *args], env=server_env(url, **env), capture_output=True, text=True, timeout=300, check=False
    )


class Workers:
    """`outlay worker` processes on one database, started one by one; those still running at the end
    are stopped with SIGTERM."""

    def __init__(self, url: str, logs: Path, **env: str) -> None:
        self.url, self.logs, self.env = url, logs, env
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        n = len(self.started)
        with (self.logs / f"worker-{n}.log").open("wb") as log:
            self.started.append(
                subprocess.Popen(
                    [OUTLAY, "worker", "--name", f"test-worker-{n}"],
                    env=server_env(self.url, **QUEUE_ENV, **self.env),
                    stdout=log,
                    stderr=log,
                )
            )
        return self.started[-1]

    def stop(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def workers(url: str, logs: Path, **env: str) -> Iterator[Workers]:
    running = Workers(url, logs, **env)
    try:
        yield running
    finally:
        running.stop()


def kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait()


def query(url: str, sql: str, **params: Any) -> list[Any]:
    async def run() -> list[Any]:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return list((await connection.execute(text(sql), params)).all())
        finally:
            await engine.dispose()

    return asyncio.run(run())


def wait_for(check: Callable[[], Any], *, seconds: float, what: str, every: float = 0.02) -> Any:
    """Poll `check` until it returns something true; fail after `seconds` saying `what` was awaited."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(every)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")
