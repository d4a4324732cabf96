"""`outlay import DIR`: load one company from a folder in the import format (docs/data-format.md).

    report = await import_company(sessions, Path("acme"), replace=False, actor="cli")
    report = await import_export(sessions, Path("statement.csv"), Path("bank.yaml"), company="acme")

Every file is read and checked first, and every problem is collected (`ImportFailed.problems`, each
printed as `file:line: column: message`); only a folder without problems is written, in one
transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from server.importer.problems import ImportFailed, Problem
from server.kit.merchants import normalize_merchant

if TYPE_CHECKING:
    from server.importer.service import ImportReport, import_company, import_export

__all__ = ["ImportFailed", "ImportReport", "Problem", "import_company", "import_export", "normalize_merchant"]


def __getattr__(name: str) -> Any:
    """The reader and writer load on first use: the categorizer needs only `server.kit.merchants`,
    and importing that runs this file."""
    if name in ("ImportReport", "import_company", "import_export"):
        from server.importer import service

        return getattr(service, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
