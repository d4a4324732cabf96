"""Cold start and idle memory: what a Claude Desktop user waits for, and what an idle server holds.

    python -m bench.startup [--database-url URL] [--runs 10] [--baseline NAME=DIR ...]

- stdio: spawn `outlay serve --transport stdio` and time Popen → `initialize` answer → first
  `tools/list` answer, over a raw JSON-RPC exchange (so no client import is counted), with the server's
  CPU seconds beside it: wall time on a busy machine mostly measures the other work;
- the package's import time (`python -c "import server.app"`, wall clock) and the `-X importtime`
  top-level packages by cumulative import time;
- idle RSS (VmRSS, and the peak VmHWM) of the stdio and the HTTP server after start-up + tools/list
  and again after 20 read calls;
- a bare `mcp` MCPServer with one tool, spawned and timed the same way, as the floor to compare with;
- `--baseline main=DIR` (DIR a checkout, e.g. a `git archive` of main): that code's `outlay serve` too.
  The servers' cold starts are interleaved (bare, each baseline, ours; again), so that a machine whose
  load drifts slows them alike.

Results go to var/bench/ (git ignores it): startup-<stamp>.json and a Markdown summary next to it.
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import json
import os
import re
import resource
import selectors
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2

from bench.server_process import OUTLAY, TOKEN, ServerProcess, http_server, server_env

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "var" / "bench"  # as bench.run: git ignores it
PACKAGES = ("server", "tools", "resources", "prompts", "evals")  # the project's, as its wheel installs them
TODAY = "2026-11-15"
DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/outlay_bench"
PROTOCOL = "2025-11-25"  # the handshake era Claude Desktop speaks
READ_CALLS = 20
CLIENT = {"name": "bench.startup", "version": "1"}
BARE_SERVER = """\
from mcp.server import MCPServer

mcp = MCPServer("bare")


@mcp.tool()
def echo(text: str) -> str:
    return text


mcp.run()
"""


class Stdio:
    """Newline-delimited JSON-RPC with a child process, every read bounded by a deadline."""

    def __init__(self, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
        assert process.stdin
        assert process.stdout
        self.process, self.timeout, self._buffer, self._next_id = process, timeout, b"", 0
        self._selector = selectors.DefaultSelector()
        self._selector.register(process.stdout, selectors.EVENT_READ)

    def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self._next_id += 1
        self.notify(method, params, id=self._next_id)
        while True:
            message = self._read()
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"{method} failed: {message['error']}")
                return dict(message["result"])

    def notify(self, method: str, params: dict[str, Any], **extra: Any) -> None:
        assert self.process.stdin
        body = {"jsonrpc": "2.0", "method": method, "params": params, **extra}
        self.process.stdin.write(json.dumps(body).encode() + b"\n")
        self.process.stdin.flush()

    def _read(self) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while b"\n" not in self._buffer:
            if not self._selector.select(max(0.0, deadline - time.monotonic())):
                raise TimeoutError(f"no answer from the server within {self.timeout} s")
            assert self.process.stdout
            chunk = os.read(self.process.stdout.fileno(), 65536)
            if not chunk:
                raise RuntimeError(f"the server exited with {self.process.wait()}")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return dict(json.loads(line))


@contextmanager
def spawned(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A stdio server: its stdin and stdout are the protocol, its stderr goes to `log`."""
    with log.open("ab") as errors:
        process = subprocess.Popen(
            command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors
        )
    try:
        yield process
    finally:
        if process.stdin:
            process.stdin.close()  # stdio servers exit on end of input
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()


def memory(process: subprocess.Popen[bytes]) -> dict[str, float]:
    """VmRSS now and VmHWM (the peak), in MB."""
    return ServerProcess(process, url="").memory_mb()


def _initialize(session: Stdio) -> None:
    session.request("initialize", {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": CLIENT})
    session.notify("notifications/initialized", {})


def stdio_start(
    command: list[str], env: dict[str, str], log: Path, *, memory_after: bool = False, reads: bool = False
) -> dict[str, Any]:
    """One cold start: seconds from Popen to the initialize and tools/list answers, then memory; and the
    server's CPU seconds over its whole life (less disturbed than wall time on a busy machine)."""
    started, cpu = time.perf_counter(), _children_cpu()
    with spawned(command, env, log) as process:
        session = Stdio(process)
        _initialize(session)
        initialized = time.perf_counter()
        tools = session.request("tools/list", {})["tools"]
        listed = time.perf_counter()
        run: dict[str, Any] = {
            "initialize_s": initialized - started,
            "tools_list_s": listed - started,
            "tools": len(tools),
        }
        if memory_after:
            run["after_tools_list"] = memory(process)
        if reads:
            _read_calls(lambda name, args: session.request("tools/call", {"name": name, "arguments": args}))
            run["after_reads"] = memory(process)
    run["cpu_s"] = _children_cpu() - cpu  # the server has exited and been waited for here
    return run


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _read_calls(call: Any) -> None:
    """READ_CALLS read-tool calls, the kinds an assistant makes first; any error stops the bench."""
    found = call("search_expenses", {"limit": 5})
    ref = found["structuredContent"]["items"][0]["id"]
    workload = [
        ("summarize_spend", {"group_by": "category"}),
        ("search_expenses", {"merchant": "uber"}),
        ("get_expense", {"expense_id": ref}),
        ("summarize_spend", {"group_by": "team", "period": TODAY[:4]}),
    ]
    for index in range(READ_CALLS - 1):
        name, arguments = workload[index % len(workload)]
        if (result := call(name, arguments)).get("isError"):
            raise RuntimeError(f"{name} failed: {result['content']}")


def _summary(runs: list[dict[str, Any]], key: str) -> dict[str, float]:
    values = [run[key] for run in runs]
    return {
        "p50_s": round(statistics.median(values), 3),
        "min_s": round(min(values), 3),
        "max_s": round(max(values), 3),
    }


def measure_stdio(
    systems: dict[str, tuple[list[str], dict[str, str], bool]], log: Path, runs: int
) -> dict[str, dict[str, Any]]:
    """Per system (name -> command, environment, read calls?): `runs` timed cold starts, interleaved
    round by round, then one more that measures memory (after read calls when asked)."""
    timed: dict[str, list[dict[str, Any]]] = {name: [] for name in systems}
    for _ in range(runs):
        for name, (command, env, _reads) in systems.items():
            timed[name].append(stdio_start(command, env, log))
    measured = {}
    for name, (command, env, reads) in systems.items():
        last = stdio_start(command, env, log, memory_after=True, reads=reads)
        measured[name] = {
            "runs": runs,
            "tools": timed[name][0]["tools"],
            "initialize": _summary(timed[name], "initialize_s"),
            "tools_list": _summary(timed[name], "tools_list_s"),
            "cpu": _summary(timed[name], "cpu_s"),
            "memory": {k: last[k] for k in ("after_tools_list", "after_reads") if k in last},
        }
    return measured


def measure_imports(runs: int) -> dict[str, Any]:
    walls = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import server.app"], check=True)
        walls.append(time.perf_counter() - started)
    traced = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import server.app"],
        check=True,
        capture_output=True,
        text=True,
    )
    return {
        "runs": runs,
        "wall": _summary([{"s": wall} for wall in walls], "s"),
        "importtime_top10": top_packages(traced.stderr, 10),
    }


def top_packages(importtime: str, count: int) -> list[dict[str, Any]]:
    """Top-level packages by the largest cumulative import time of any of their modules."""
    best: dict[str, tuple[int, str]] = {}
    for cumulative, module in re.findall(r"^import time:\s+\d+ \|\s+(\d+) \|\s*(\S+)", importtime, re.M):
        package = module.split(".")[0]
        if int(cumulative) > best.get(package, (-1, ""))[0]:
            best[package] = (int(cumulative), module)
    ranked = sorted(best.items(), key=lambda item: -item[1][0])[:count]
    return [{"package": p, "module": m, "cumulative_ms": round(us / 1000, 1)} for p, (us, m) in ranked]


def measure_http(database_url: str, log: Path) -> dict[str, Any]:
    """Seconds from spawn to /readyz, then memory after tools/list and after the read calls."""
    started = time.perf_counter()
    with http_server(server_env(database_url, TODAY), log=log) as server:
        ready = time.perf_counter() - started
        with httpx2.Client(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60) as http:
            call = _http_rpc(http, f"{server.url}/mcp")
            call("initialize", {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": CLIENT})
            call("notifications/initialized", {})
            call("tools/list", {})
            after_tools_list = server.memory_mb()
            _read_calls(lambda name, args: call("tools/call", {"name": name, "arguments": args}))
            after_reads = server.memory_mb()
    return {
        "ready_s": round(ready, 3),
        "memory": {"after_tools_list": after_tools_list, "after_reads": after_reads},
    }


def _http_rpc(http: httpx2.Client, url: str) -> Any:
    """JSON-RPC over streamable HTTP; a session id, once the server hands one out, goes on every call."""
    headers = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": PROTOCOL}
    counter = iter(range(1, 1_000_000))

    def call(method: str, params: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
        if not method.startswith("notifications/"):
            body["id"] = next(counter)
        response = http.post(url, json=body, headers=headers)
        response.raise_for_status()
        if session := response.headers.get("mcp-session-id"):
            headers["Mcp-Session-Id"] = session
        if "id" not in body:
            return {}
        message = _json_or_sse(response.text)
        if "error" in message:
            raise RuntimeError(f"{method} failed: {message['error']}")
        return dict(message["result"])

    return call


def _json_or_sse(text: str) -> dict[str, Any]:
    if text.lstrip().startswith("{"):
        return dict(json.loads(text))
    data = [line[5:].strip() for line in text.splitlines() if line.startswith("data:")]
    messages = [json.loads(d) for d in data if d]
    return dict(next(m for m in messages if "id" in m))


def compile_checkout(root: Path = ROOT) -> None:
    """Bytecode for the checkout's own modules, as an installed server has it (the Dockerfile's
    UV_COMPILE_BYTECODE; Python's own __pycache__ after a first start). A checkout is an editable
    install: run with PYTHONDONTWRITEBYTECODE=1 (CI, the bench machine) it compiled its ~140 modules
    from source at every spawn, 0.1-0.3 s of CPU, while the bare server's `mcp` came with its bytecode."""
    for package in PACKAGES:
        if (root / package).is_dir():
            compileall.compile_dir(root / package, quiet=1)


def measure_startup(
    database_url: str, *, runs: int, baselines: dict[str, str] | None = None
) -> dict[str, Any]:
    """Cold start, import time and idle memory of `outlay serve`, with a bare `mcp` server for reference
    and the same command on each baseline checkout's code."""
    compile_checkout()
    for path in (baselines or {}).values():
        compile_checkout(Path(path))
    log = RESULTS / "logs" / "startup.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    env = server_env(database_url, TODAY)
    serve = [OUTLAY, "serve", "--transport", "stdio"]
    systems = {
        "bare_mcp": ([sys.executable, "-c", BARE_SERVER], env, False),
        **{
            f"stdio@{name}": (serve, env | {"PYTHONPATH": path}, True)
            for name, path in (baselines or {}).items()
        },
        "stdio": (serve, env, True),
    }
    measured = measure_stdio(systems, log, runs)
    return {
        "runs": runs,
        "database": database_url.rsplit("/", 1)[-1],
        "baselines": baselines or {},
        "stdio": measured.pop("stdio"),
        "bare_mcp": measured.pop("bare_mcp"),
        "baseline_stdio": measured,
        "imports": measure_imports(runs),
        "http": measure_http(database_url, log),
        "machine": {"cpus": os.cpu_count(), "load_1m": round(os.getloadavg()[0], 2)},
    }


def render(result: dict[str, Any]) -> str:
    stdio, bare, imports, http = result["stdio"], result["bare_mcp"], result["imports"], result["http"]
    lines = [
        f"# Cold start and idle memory ({result['runs']} runs, database {result['database']}, "
        f"{result['machine']['cpus']} CPUs, load {result['machine']['load_1m']})",
        "",
        "| server | spawn → initialize p50 s | spawn → tools/list p50 s | min s | max s | server CPU p50 s |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    baselines = [(f"outlay {name}", row) for name, row in result.get("baseline_stdio", {}).items()]
    for name, row in [("outlay stdio", stdio), *baselines, ("bare mcp stdio", bare)]:
        listed = row["tools_list"]
        lines.append(
            f"| {name} ({row['tools']} tools) | {row['initialize']['p50_s']} | {listed['p50_s']} "
            f"| {listed['min_s']} | {listed['max_s']} | {row['cpu']['p50_s']} |"
        )
    lines += [
        "",
        "Over the bare server (p50s): "
        + ", ".join(_over_bare(name, row, bare) for name, row in [("outlay stdio", stdio), *baselines]),
    ]
    lines += ["", "| server | after | VmRSS MB | peak (VmHWM) MB |", "| --- | --- | --- | --- |"]
    for name, row in [("outlay stdio", stdio), ("outlay http", http), *baselines, ("bare mcp stdio", bare)]:
        for after, label in (
            ("after_tools_list", "start + tools/list"),
            ("after_reads", f"{READ_CALLS} reads"),
        ):
            if after in row["memory"]:
                used = row["memory"][after]
                lines.append(f"| {name} | {label} | {used['rss_mb']} | {used['peak_rss_mb']} |")
    wall = imports["wall"]
    lines += [
        "",
        f"HTTP server ready (/readyz) {http['ready_s']} s after spawn.",
        "",
        f"`import server.app`: p50 {wall['p50_s']} s wall (min {wall['min_s']}, max {wall['max_s']}), "
        "interpreter start included. Top packages by cumulative `-X importtime`:",
        "",
        "| package | heaviest module | cumulative ms |",
        "| --- | --- | --- |",
    ]
    lines += [
        f"| {r['package']} | {r['module']} | {r['cumulative_ms']} |" for r in imports["importtime_top10"]
    ]
    return "\n".join(lines) + "\n"


def _over_bare(name: str, row: dict[str, Any], bare: dict[str, Any]) -> str:
    listed = row["tools_list"]["p50_s"] / bare["tools_list"]["p50_s"]
    cpu = row["cpu"]["p50_s"] / bare["cpu"]["p50_s"]
    return f"{name} {listed:.2f}x to tools/list, {cpu:.2f}x server CPU"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("OUTLAY_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument(
        "--baseline",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="also time `outlay serve` as the checkout in DIR runs it (e.g. a `git archive` of main)",
    )
    args = parser.parse_args(argv)
    baselines = dict(item.split("=", 1) for item in args.baseline)
    result = measure_startup(args.database_url, runs=args.runs, baselines=baselines)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"startup-{stamp}.json").write_text(json.dumps(result, indent=2))
    markdown = render(result)
    (RESULTS / f"startup-{stamp}.md").write_text(markdown)
    print(markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
