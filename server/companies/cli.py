"""`outlay company list` and `outlay company remove SLUG` (server/companies/service.py does the work).

Kept free of heavy imports: the command line builds every parser at start-up."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from server.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from server.companies.service import CompanyLine

T = TypeVar("T")
EXIT_FAILED, EXIT_USAGE = 1, 2
HEADER = ("slug", "name", "currency", "expenses", "span", "model")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(required=True, metavar="ACTION")
    actions.add_parser(
        "list", help="the companies loaded: slug, name, currency, expenses, their span, categorizer version"
    ).set_defaults(command=cmd_list)
    remove = actions.add_parser("remove", help="delete a company and all its data (asks first)")
    remove.add_argument("slug")
    remove.add_argument("--yes", action="store_true", help="do not ask (needed without a terminal)")
    remove.set_defaults(command=cmd_remove)


def cmd_list(settings: Settings, _: argparse.Namespace) -> int:
    from server.companies.service import list_companies

    lines = _run(settings, list_companies)
    if not lines:
        print(
            "No company is loaded: `outlay demo` loads the demo, `outlay import DIR` your own.",
            file=sys.stderr,
        )
        return 0
    print(table(lines))
    return 0


def table(lines: list[CompanyLine]) -> str:
    rows = [HEADER, *(_cells(line) for line in lines)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    right = {3, 5}  # the numbers
    return "\n".join(
        "  ".join(
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    )


def _cells(line: CompanyLine) -> tuple[str, ...]:
    span = (
        f"{line.first_expense.isoformat()}..{line.last_expense.isoformat()}"
        if line.first_expense and line.last_expense
        else "-"
    )
    model = f"v{line.model_version}" if line.model_version is not None else "-"
    return (line.slug, line.name, line.currency, f"{line.expenses:,}", span, model)


def cmd_remove(settings: Settings, args: argparse.Namespace) -> int:
    from server.companies import service
    from server.errors import NotFound

    if not args.yes and not sys.stdin.isatty():
        return _fail(
            f"removing {args.slug!r} deletes all its data: confirm on a terminal, or pass --yes", EXIT_USAGE
        )
    try:
        name, counts = _run(settings, lambda session: _preview(session, args.slug))
        if not args.yes and not _confirmed(args.slug, name, counts):
            print("Nothing was removed.", file=sys.stderr)
            return EXIT_FAILED
        removed = _run(
            settings, lambda session: service.remove_company(session, args.slug, actor="cli"), write=True
        )
    except NotFound as exc:
        return _fail(str(exc))
    print(f"Removed company {args.slug!r} ({name}): {_counts(removed)}.", file=sys.stderr)
    return 0


async def _preview(session: AsyncSession, slug: str) -> tuple[str, dict[str, int]]:
    from server.companies import service

    company = await service.find(session, slug)
    return company.name, await service.count_rows(session, company.id)


def _confirmed(slug: str, name: str, counts: dict[str, int]) -> bool:
    print(f"This deletes company {slug!r} ({name}) and all its data: {_counts(counts)}.", file=sys.stderr)
    print("The record of its changes and calls stays. It cannot be undone.", file=sys.stderr)
    print(f"Type {slug} to remove it: ", end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip() == slug


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n:,} {table.replace('_', ' ')}" for table, n in counts.items())


def _run(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]], *, write: bool = False) -> T:
    async def run() -> T:
        from server.db.engine import create_engine, create_session_factory
        from server.db.schema import ensure_schema

        engine = create_engine(settings.database_url)
        try:
            await ensure_schema(engine)
            async with create_session_factory(engine)() as session:
                if not write:
                    return await work(session)
                async with session.begin():
                    return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _fail(message: str, code: int = EXIT_FAILED) -> int:
    print(f"outlay: {message}", file=sys.stderr)
    return code
