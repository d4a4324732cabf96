"""`outlay import --no-train` of the demo company's folder into an empty database, as an operator runs it:
wall seconds and the process's peak RSS, on PostgreSQL (a scratch database, created afresh each run) and
on SQLite (a new file). Training is left out: it has its own budget (bench/training.py).

The folder is written once (the demo generator, "today" pinned) under var/bench/demo-data/ and reused.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from server.db.engine import libpq_url

SCRATCH = "outlay_bench_import"


def measure(postgres_url: str, size: tuple[int, int], folder: Path, today: str) -> dict[str, Any]:
    """Import the demo company of `size` (written into `folder` first if it is not there) on both
    backends; PostgreSQL into the database SCRATCH of `postgres_url`'s server."""
    if not (folder / "company.csv").is_file():
        from server.demo import write_demo_company

        employees, months = size
        write_demo_company(folder, employees=employees, months=months, today=dt.date.fromisoformat(today))
    scratch = make_url(postgres_url).set(database=SCRATCH).render_as_string(hide_password=False)
    asyncio.run(recreate_database(scratch, SCRATCH))
    result: dict[str, Any] = {"employees": size[0], "months": size[1], "expenses": _rows(folder)}
    result["postgresql"] = _import(scratch, folder)
    with tempfile.TemporaryDirectory(prefix="outlay-bench-import-") as scratch_dir:
        result["sqlite"] = _import(f"sqlite+aiosqlite:///{scratch_dir}/import.db", folder)
    return result


async def recreate_database(url: str, name: str) -> None:
    """A bench section's scratch database, empty (whatever an earlier run left in it, connections too)."""
    connection = await asyncpg.connect(libpq_url(url, database="postgres"))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


def _rows(folder: Path) -> int:
    with (folder / "expenses.csv").open("rb") as lines:
        return sum(1 for _ in lines) - 1


def _import(url: str, folder: Path) -> dict[str, Any]:
    """`outlay db upgrade`, then `outlay import FOLDER --no-train` timed in a process of its own."""
    env = os.environ | {"OUTLAY_DATABASE_URL": url, "OUTLAY_LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "server.cli"]
    subprocess.run([*command, "db", "upgrade"], env=env, check=True, stdout=subprocess.DEVNULL)
    started = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen(
            [*command, "import", str(folder), "--no-train"], env=env, stdout=subprocess.DEVNULL, stderr=errors
        )
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        if child.returncode != 0:
            errors.seek(0)
            raise RuntimeError(f"outlay import failed: {errors.read().decode()[-2000:]}")
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
    }


def render(result: dict[str, Any]) -> str:
    lines = [
        f"# Import ({result['employees']:,} employees, {result['months']} months: {result['expenses']:,} "
        "expenses; `outlay import --no-train` into an empty database)",
        "",
        "| backend | seconds | CPU seconds | peak RSS MB |",
        "| --- | --- | --- | --- |",
    ]
    for backend in ("postgresql", "sqlite"):
        run = result[backend]
        lines.append(f"| {backend} | {run['seconds']} | {run['cpu_seconds']} | {run['peak_rss_mb']} |")
    return "\n".join(lines) + "\n"
