"""The companies scenarios start from, and a fresh database of one for every trial.

A fixture is a company writer (an import folder, docs/data-format.md) run at the scenario's "today".
Each (fixture, today) is built once per run into a template database (migrate, then `outlay import`'s
own `load_company`: import and train the first categorizer) and every trial gets its own copy: a trial
that writes cannot leak into the next one, and trials can run side by side.
SQLite copies are file copies; PostgreSQL copies are `CREATE DATABASE ... TEMPLATE`.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import anyio
import anyio.to_thread
import asyncpg
from sqlalchemy.engine import make_url

from evals.harness.transcript import InfrastructureError
from server.db.engine import libpq_url


@dataclass(frozen=True)
class Fixture:
    name: str
    slug: str  # the company the caller belongs to
    write: Callable[[Path, dt.date], object]  # writes the import folder for that "today"
    about: str


def _meridian(folder: Path, today: dt.date) -> object:
    from evals.datasets.meridian import write_meridian_company

    return write_meridian_company(folder, today=today)


def _synthco(folder: Path, today: dt.date) -> object:
    from evals.datasets.synthetic import write_synthetic_company

    return write_synthetic_company(folder, today=today)


def _demo(folder: Path, today: dt.date) -> object:
    from server.demo import write_demo_company

    # Small: the demo's shape without its import time (the default size takes most of a minute).
    return write_demo_company(folder, employees=40, months=14, today=today)


FIXTURES = {
    fixture.name: fixture
    for fixture in (
        Fixture(
            "meridian",
            "meridian",
            _meridian,
            "scenario company with named traps (evals/datasets/meridian.py)",
        ),
        Fixture(
            "synthco", "synthco", _synthco, "teams with known spend shapes (evals/datasets/synthetic.py)"
        ),
        Fixture("demo", "acme", _demo, "the demo generator, 40 employees x 14 months"),
    )
}


def fixture_named(name: str) -> Fixture:
    """A named fixture, or an import folder given by path (a company of one's own, as it is: its
    "today" only pins the server's clock). Raises LookupError with what would be accepted."""
    if name in FIXTURES:
        return FIXTURES[name]
    folder = Path(name)
    company = folder / "company.csv"
    if not company.is_file():
        raise LookupError(
            f"unknown fixture {name!r}: one of {', '.join(FIXTURES)}, or the path of an import folder "
            "(docs/data-format.md; relative to the scenario file)"
        )
    with company.open(newline="", encoding="utf-8") as rows:
        slug = next(csv.DictReader(rows), {}).get("slug") or ""
    return Fixture(
        name, slug, lambda out, _today: shutil.copytree(folder, out), f"the import folder {folder}"
    )


class FixtureDatabases:
    """Template databases per (fixture, today) and per-trial copies; `close` drops what it created.

    `postgres_url` names a PostgreSQL server (any database on it) to create databases on; None means
    SQLite files under `workdir`. `templates` maps (fixture, today) to databases built before.
    """

    def __init__(
        self,
        workdir: Path,
        postgres_url: str | None = None,
        *,
        templates: dict[tuple[str, dt.date], str] | None = None,
    ) -> None:
        self._workdir = workdir
        self._postgres = postgres_url
        # Templates built by someone else (a test session shares them): used, never dropped here.
        self._templates: dict[tuple[str, dt.date], str] = dict(templates or {})
        self._building: dict[tuple[str, dt.date], anyio.Lock] = {}
        self._created: list[str] = []  # PostgreSQL databases
        # PostgreSQL refuses to copy a template another session is touching: one copy at a time.
        self._copying = anyio.Lock()

    @property
    def templates(self) -> dict[tuple[str, dt.date], str]:
        return dict(self._templates)

    @property
    def backend(self) -> str:
        return "sqlite" if self._postgres is None else "postgresql"

    async def template(self, fixture: str, today: dt.date) -> str:
        """The migrated, imported database of `fixture` at `today`, built on first use."""
        key = (fixture, today)
        lock = self._building.setdefault(key, anyio.Lock())
        async with lock:
            if key not in self._templates:
                self._templates[key] = await self._build(fixture_named(fixture), today)
        return self._templates[key]

    async def trial_copy(self, fixture: str, today: dt.date) -> str:
        """A database of the trial's own, equal to the template."""
        template = await self.template(fixture, today)
        name = f"outlay_eval_{uuid.uuid4().hex[:12]}"
        if self._postgres is None:
            copy = self._workdir / f"{name}.db"
            await anyio.to_thread.run_sync(shutil.copyfile, _sqlite_path(template), copy)
            return f"sqlite+aiosqlite:///{copy}"
        async with self._copying:
            await self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(template).database}"')
        self._created.append(name)
        return self._url(name)

    async def discard(self, url: str) -> None:
        """Remove a trial's copy (templates stay until `close`)."""
        if url in self._templates.values():
            return
        if self._postgres is None:
            _sqlite_path(url).unlink(missing_ok=True)
        else:
            name = make_url(url).database or ""
            await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self._created.remove(name)

    async def close(self) -> None:
        for name in list(self._created):
            await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._created.clear()

    async def _build(self, fixture: Fixture, today: dt.date) -> str:
        from server.cli import load_company
        from server.db.migrate import upgrade
        from server.importer import ImportFailed

        label = re.sub(r"[^a-z0-9]+", "_", Path(fixture.name).name.lower())[:20]
        name = f"outlay_eval_{label}_{today:%Y%m%d}_{uuid.uuid4().hex[:6]}"
        folder = self._workdir / name
        await anyio.to_thread.run_sync(fixture.write, folder, today)
        if self._postgres is None:
            url = f"sqlite+aiosqlite:///{self._workdir / name}.db"
        else:
            await self._admin(f'CREATE DATABASE "{name}"')
            self._created.append(name)
            url = self._url(name)
        await anyio.to_thread.run_sync(upgrade, url)
        try:
            # What `outlay import` does: the import, then the first categorizer.
            await load_company(url, folder, actor="eval")
        except ImportFailed as failed:
            raise InfrastructureError(
                f"fixture {fixture.name!r} does not import: {failed.problems[:5]}"
            ) from failed
        return url

    def _url(self, database: str) -> str:
        assert self._postgres is not None
        return make_url(self._postgres).set(database=database).render_as_string(hide_password=False)

    async def _admin(self, statement: str) -> None:
        assert self._postgres is not None
        dsn = libpq_url(self._postgres)
        try:
            connection = await asyncpg.connect(dsn, timeout=10)
        except (OSError, asyncpg.PostgresError) as exc:
            raise InfrastructureError(
                f"PostgreSQL unreachable at {make_url(self._postgres)!s}: {exc}"
            ) from exc
        try:
            await connection.execute(statement)
        finally:
            await connection.close()


def _sqlite_path(url: str) -> Path:
    return Path(make_url(url).database or "")
