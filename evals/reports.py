"""What the model-quality evals (`outlay eval categorize|approvers|forecast`) share: the company they
score and how their report is written (its Markdown tables and percentages among it)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Company
from server.errors import NotFound


async def company_named(session: AsyncSession, slug: str | None) -> Company:
    """The company `slug`, or the only one loaded; NotFound names the companies there are."""
    query = select(Company).order_by(Company.slug)
    companies = list((await session.scalars(query.where(Company.slug == slug) if slug else query)).all())
    if len(companies) != 1:
        found = ", ".join(c.slug for c in companies) or "none"
        raise NotFound(
            f"pass --company: {'no company named ' + repr(slug) if slug else 'companies: ' + found}"
        )
    return companies[0]


def write_report(out: Path, stem: str, report: dict[str, Any], markdown: str) -> list[Path]:
    """`report` as `<stem>.json` and `markdown` as `<stem>.md` in `out`; the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{stem}.json", out / f"{stem}.md"]
    paths[0].write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    paths[1].write_text(markdown, encoding="utf-8")
    return paths


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A Markdown table's lines."""
    return [
        f"| {' | '.join(header)} |",
        f"|{'|'.join(' --- ' for _ in header)}|",
        *(f"| {' | '.join(row)} |" for row in rows),
    ]


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"
