"""The `outlay` command line as a person runs it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.transports.conftest import OUTLAY, server_env


def run_outlay(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([OUTLAY, *args], env=env, capture_output=True, text=True, timeout=120, check=False)


def test_serve_refuses_an_unmigrated_database_and_says_what_to_run(tmp_path: Path) -> None:
    env = server_env(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")

    result = run_outlay("serve", "--transport", "stdio", env=env)

    assert result.returncode == 2
    assert result.stdout == ""
    assert "has no Outlay schema. Run `outlay db upgrade` first." in result.stderr
    assert "Traceback" not in result.stderr


def test_claude_config_prints_a_stdio_entry_for_this_checkout(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'outlay.db'}"

    result = run_outlay("claude-config", env={**server_env(url), "OUTLAY_COMPANY": "acme"})

    assert result.returncode == 0, result.stderr
    entry = json.loads(result.stdout)["mcpServers"]["outlay"]
    assert entry == {
        "command": OUTLAY,
        "args": ["serve", "--transport", "stdio"],
        "env": {"OUTLAY_DATABASE_URL": url, "OUTLAY_COMPANY": "acme"},
    }
    assert Path(entry["command"]).is_file()


def test_db_upgrade_is_idempotent(tmp_path: Path) -> None:
    env = server_env(f"sqlite+aiosqlite:///{tmp_path / 'outlay.db'}")

    first, second = run_outlay("db", "upgrade", env=env), run_outlay("db", "upgrade", env=env)

    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    assert "Database is up to date" in second.stderr
