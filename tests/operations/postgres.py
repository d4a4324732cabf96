"""A private PostgreSQL cluster for fault tests: initdb into a temporary folder, on a free port, so a test
may stop and start it at will (never the shared server on 5432)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from server.fakes.loopback import free_port


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise FileNotFoundError(f"no PostgreSQL {name} under /usr/lib/postgresql")
    return found[-1]


def available() -> bool:
    try:
        _bin("initdb")
    except FileNotFoundError:
        return False
    return os.geteuid() != 0 or shutil.which("runuser") is not None


def _as_postgres(*command: str) -> list[str]:
    # initdb and postgres refuse to run as root.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


@dataclass
class PrivateCluster:
    directory: Path
    port: int

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def _pg_ctl(self, *arguments: str) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        command = _as_postgres(
            _bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.directory / "log"), "-w"
        )
        subprocess.run([*command, *arguments], check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        self._pg_ctl("start")

    def stop(self) -> None:
        self._pg_ctl("stop", "-m", "fast")

    @classmethod
    def create(cls) -> PrivateCluster:
        directory = Path(tempfile.mkdtemp(prefix="outlay-pg-"))
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres", "postgres")
        initdb = _as_postgres(_bin("initdb"), "-D", str(directory / "data"), "-A", "trust", "-U", "postgres")
        subprocess.run(initdb, check=True, capture_output=True, timeout=120)
        cluster = cls(directory, free_port())
        cluster.start()
        return cluster

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already down
            self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)
