"""`outlay import DIR`: load one company from a folder in the import format (docs/data-format.md).

    report = await import_company(sessions, Path("acme"), replace=False, actor="cli")

Every file is read and checked first, and every problem is collected (`ImportFailed.problems`, each
printed as `file:line: column: message`); only a folder without problems is written, in one
transaction.
"""

from server.importer.merchants import normalize_merchant
from server.importer.problems import ImportFailed, Problem
from server.importer.service import ImportReport, import_company

__all__ = ["ImportFailed", "ImportReport", "Problem", "import_company", "normalize_merchant"]
