"""What `outlay import` says: the rows written per table, what an append found already there, and a dry
run's first rows as they would be stored."""

from __future__ import annotations

from typing import TYPE_CHECKING

from server.kit.money import format_amount

if TYPE_CHECKING:
    from server.importer.service import ImportReport
    from server.importer.store import ExpenseRow


def describe(report: ImportReport) -> list[str]:
    lines = [_headline(report)]
    if report.skipped:
        count = sum(report.skipped.values())
        listed = ", ".join(f"{code} {n}" for code, n in sorted(report.skipped.items(), key=lambda i: -i[1]))
        lines.append(
            f"Left out {count} row(s) in a currency without a rate ({listed}): fx.without_rate: skip"
        )
    if report.dry_run:
        lines.append(f"The first {len(report.preview)} expense(s) as they would be stored:")
        lines += [f"  {expense_line(e, report.currency)}" for e in report.preview]
    return lines


def _headline(report: ImportReport) -> str:
    slug = report.company_slug
    counts = ", ".join(f"{value:,} {key.replace('_', ' ')}" for key, value in report.counts.items() if value)
    there = ""
    if report.appended:
        requests = f" and {report.requests_there} approval request(s)" if report.requests_there else ""
        there = f"; already there: {report.expenses_there} expense(s){requests}"
    if report.dry_run:
        verb = f"would append to company {slug!r}" if report.appended else f"would import company {slug!r}"
        return f"Dry run, nothing was written: {verb}: {counts}{there}"
    if report.appended and report.expenses == 0 and report.approval_requests == 0:
        return f"Nothing new for company {slug!r}: every expense of the file was there already{there}"
    if report.appended:
        return f"Appended to company {slug!r}: {counts}{there}"
    return f"Imported company {slug!r}: {counts}"


def expense_line(e: ExpenseRow, company_currency: str) -> str:
    """One expense as it would be stored, in the words of the import format's columns."""
    money = e.money
    parts = [
        e.ref,
        e.spent_on.isoformat(),
        f"amount {format_amount(money.amount_minor, money.currency)} {money.currency}",
        f"team {e.team!r}",
        f"employee {e.employee or '(none)'}",
        f"descriptor {e.descriptor!r}",
        f"merchant {e.merchant!r}",
        f"category {e.category or '(uncategorized)'}",
        f"status {e.status.value}",
    ]
    if money.currency != company_currency:
        settled = format_amount(money.amount_company_minor, company_currency)
        parts.insert(3, f"amount_company {settled} {company_currency}")
    optional = (
        ("mcc", e.mcc), ("cost_center", e.cost_center), ("project", e.project), ("card", e.card),
        ("receipt_id", e.receipt_id), ("country", e.country), ("memo", e.memo),
    )  # fmt: skip
    parts += [f"{name} {value!r}" for name, value in optional if value]
    parts += [f"{name} {value!r}" for name, value in e.dimensions]
    return "; ".join(parts)
