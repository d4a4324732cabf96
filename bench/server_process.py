"""`outlay serve` in its own process, as a client meets it, and what that process costs: CPU seconds and
memory read from /proc (the server's whole process tree, so several uvicorn workers count too)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from server.fakes.loopback import free_port, wait_until_ready

OUTLAY = str(Path(sys.executable).with_name("outlay"))
TOKEN = "bench-token"  # noqa: S105 - a loopback-only key made for this run
_TICKS = os.sysconf("SC_CLK_TCK")


def server_env(database_url: str, today: str, **settings: str) -> dict[str, str]:
    """The caller's environment without its OUTLAY_* settings, plus the bench's: the demo company behind
    one token, warnings only, and no per-caller abuse limits (the bench measures capacity, not them)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OUTLAY_")}
    env.update(
        OUTLAY_DATABASE_URL=database_url,
        OUTLAY_TODAY=today,
        OUTLAY_API_KEYS=json.dumps({TOKEN: "acme"}),
        OUTLAY_LOG_LEVEL="WARNING",
        OUTLAY_RATE_LIMIT__REQUESTS_PER_SECOND="0",
        OUTLAY_RATE_LIMIT__CONCURRENCY="0",
    )
    env.update(settings)
    return env


@dataclass(frozen=True)
class ServerProcess:
    process: subprocess.Popen[bytes]
    url: str

    def cpu_seconds(self) -> float:
        """User + system CPU of the server and its children so far."""
        return sum(_cpu_ticks(pid) for pid in _tree(self.process.pid)) / _TICKS

    def memory_mb(self) -> dict[str, float]:
        """Resident set now and at its peak (VmHWM), summed over the process tree."""
        rss = peak = 0
        for pid in _tree(self.process.pid):
            status = _status(pid)
            rss += status.get("VmRSS", 0)
            peak += status.get("VmHWM", 0)
        return {"rss_mb": round(rss / 1024, 1), "peak_rss_mb": round(peak / 1024, 1)}


@contextmanager
def http_server(env: dict[str, str], *, log: Path) -> Iterator[ServerProcess]:
    """`outlay serve --transport http` on a free loopback port, ready (`/readyz`) when this yields."""
    port = free_port()
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as output:
        process = subprocess.Popen(
            [OUTLAY, "serve", "--transport", "http", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=output,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(url, process, seconds=60, log=log)
        yield ServerProcess(process, url)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def children() -> set[int]:
    """The processes this one has started and that still run."""
    return set(_tree(os.getpid())) - {os.getpid()}


def cpu_seconds_of(pid: int) -> float:
    """User + system CPU of a process and its children so far."""
    return sum(_cpu_ticks(each) for each in _tree(pid)) / _TICKS


def _tree(pid: int) -> list[int]:
    pids, pending = [], [pid]
    while pending:
        current = pending.pop()
        pids.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            pending.extend(int(child) for child in task.read_text().split())
    return pids


def _cpu_ticks(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return 0
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return int(fields[11]) + int(fields[12])  # utime, stime


def _status(pid: int) -> dict[str, int]:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except FileNotFoundError:
        return {}
    return {
        key: int(value.split()[0])
        for key, _, value in (line.partition(":") for line in lines)
        if value.strip().endswith("kB")
    }
