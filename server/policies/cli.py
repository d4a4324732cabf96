"""`outlay policy load FILE` and `outlay policy show` (server/policies/service.py does the work).

Kept free of heavy imports: the command line builds every parser at start-up."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from server.settings import Settings

if TYPE_CHECKING:
    from server.kit.expense_policy import ExpensePolicy

EXIT_FAILED = 1
COMPANY_HELP = "company slug (default OUTLAY_COMPANY, or the only company)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(required=True, metavar="ACTION")
    load = actions.add_parser(
        "load",
        help="load or replace a company's expense policy (expense_policy.json format) as a new version",
    )
    load.add_argument("file", type=Path)
    load.add_argument("--company", help=COMPANY_HELP)
    load.set_defaults(command=cmd_load)
    show = actions.add_parser("show", help="print the expense policy in force, as JSON")
    show.add_argument("--company", help=COMPANY_HELP)
    show.set_defaults(command=cmd_show)


def cmd_load(settings: Settings, args: argparse.Namespace) -> int:
    from server.companies.cli import _run
    from server.errors import OutlayError
    from server.importer.problems import ImportFailed
    from server.policies.service import load_policy

    slug = args.company or settings.company
    try:
        loaded = _run(
            settings, lambda session: load_policy(session, slug, args.file, actor="cli"), write=True
        )
    except ImportFailed as failed:
        for line in [*map(str, failed.problems), *failed.more()]:
            print(line, file=sys.stderr)
        return _fail(
            f"{args.file} was not loaded: {failed.count} problem(s); the policy in force is unchanged"
        )
    except OutlayError as exc:
        return _fail(str(exc))
    before = f" (version {loaded.replaced} was)" if loaded.replaced else ""
    print(
        f"Loaded the expense policy of {loaded.company!r}: version {loaded.version}{before}, "
        f"{loaded.rules} rule{'s' if loaded.rules != 1 else ''}; it is in force from now.",
        file=sys.stderr,
    )
    return 0


def cmd_show(settings: Settings, args: argparse.Namespace) -> int:
    from server.companies.cli import _run
    from server.errors import OutlayError
    from server.policies.service import policy_in_force

    try:
        slug, found = _run(
            settings, lambda session: policy_in_force(session, args.company or settings.company)
        )
    except OutlayError as exc:
        return _fail(str(exc))
    if found is None:
        print(f"{slug} has no expense policy loaded: `outlay policy load FILE` loads one.", file=sys.stderr)
        return 0
    version, policy = found
    print(f"{slug}: expense policy version {version}", file=sys.stderr)
    print(_json(policy))
    return 0


def _json(policy: ExpensePolicy) -> str:
    return json.dumps(policy.model_dump(mode="json", exclude_none=True), indent=2)


def _fail(message: str) -> int:
    print(f"outlay: {message}", file=sys.stderr)
    return EXIT_FAILED
