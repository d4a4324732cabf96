"""Tenant isolation in depth, for one tool-call transaction on PostgreSQL: the caller's company in
`outlay.company_id`, which the row-level security policies of migration 0005 compare every row with,
the tool-call role (superusers bypass row security), and a statement timeout. SQLite has neither row
security nor statement timeouts: there the query filters are the only line."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from server.errors import OutlayError
from server.settings import Settings

COMPANY_SETTING = "outlay.company_id"
# The caller's company by its (unique) slug, and on PostgreSQL the tenant entered in the same round trip,
# with settings that end with the transaction. At most one row: `set_config` runs once, after the row
# passed the scan's filters (row security's included), which see the settings as they were before.
_BY_SLUG = "SELECT c.id, c.slug, c.name, c.currency{enter} FROM companies AS c WHERE c.slug = :slug"
_LOOKUP = text(_BY_SLUG.format(enter=""))
_LOOKUP_AND_ENTER = text(
    _BY_SLUG.format(
        enter=", set_config('role', :role, true), set_config(:company_setting, c.id::text, true),"
        " set_config('statement_timeout', :timeout, true)"
    )
)
# Without a slug, the only company: two rows tell that it is not. Entered by a second statement: with
# several rows, a set_config of the first would change what row security lets the scan see next.
_FIRST_TWO = text("SELECT c.id, c.slug, c.name, c.currency FROM companies AS c LIMIT 2")
_ENTER = text(
    "SELECT set_config('role', :role, true), set_config(:company_setting, :company, true),"
    " set_config('statement_timeout', :timeout, true)"
)
_SLUGS = text("SELECT c.slug FROM companies AS c ORDER BY c.slug")
_ROLE_STATE = text(
    "SELECT r.rolname IS NOT NULL, COALESCE(pg_has_role(current_user, r.oid, 'MEMBER'), false)"
    " FROM (SELECT 1) AS one LEFT JOIN pg_roles AS r ON r.rolname = :role"
)
_QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement cancelled by statement_timeout


class QueryTimeout(OutlayError):
    """A statement ran past OUTLAY_STATEMENT_TIMEOUT_MS and was cancelled."""


async def enter_tenant(session: AsyncSession, settings: Settings, company_id: int) -> None:
    """What `enter_company` does with `settings`, for a company known already (tests, admin paths)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    await session.execute(_ENTER, _tenant_parameters(settings) | {"company": str(company_id)})


def _tenant_parameters(settings: Settings) -> dict[str, str]:
    return {
        "role": settings.tenant_role,
        "company_setting": COMPANY_SETTING,
        "timeout": str(settings.statement_timeout_ms),
    }


async def enter_company(session: AsyncSession, slug: str, settings: Settings | None) -> Sequence[Row[Any]]:
    """(id, slug, name, currency) of the company `slug` names, or of up to two companies for ''. With
    `settings`, on PostgreSQL, when exactly one is found, it is entered: from there until the transaction
    ends, the session sees only its rows, as the tool-call role, and no statement runs longer than the
    timeout (by slug, in the lookup's own statement: one round trip, not two, on every call). Must come
    before the role switch: the lookup needs every company."""
    if slug and settings is not None and session.get_bind().dialect.name == "postgresql":
        return (await session.execute(_LOOKUP_AND_ENTER, {"slug": slug} | _tenant_parameters(settings))).all()
    if slug:
        return (await session.execute(_LOOKUP, {"slug": slug})).all()
    found = (await session.execute(_FIRST_TWO)).all()
    if settings is not None and len(found) == 1:
        await enter_tenant(session, settings, found[0].id)
    return found


LOAD_A_COMPANY = "run `outlay import FOLDER` (or `outlay demo` for a demo company) to load one"


async def loaded_slugs(session: AsyncSession) -> list[str]:
    """Every company's slug, in order: to tell a local caller which ones there are (before any tenant is
    entered, when the session still sees every company)."""
    return [str(slug) for slug in (await session.execute(_SLUGS)).scalars()]


async def tenant_role_problem(engine: AsyncEngine, role: str) -> str | None:
    """None when tool calls can switch to the tool-call role, else what to tell the operator: at start-up,
    rather than as a failure of every call."""
    if engine.dialect.name != "postgresql":
        return None
    async with engine.connect() as connection:
        exists, member = (await connection.execute(_ROLE_STATE, {"role": role})).one()
    if not exists:
        return f"The PostgreSQL role {role!r} (OUTLAY_TENANT_ROLE) does not exist. Run `outlay db upgrade`."
    if not member:
        return (
            f"The database user may not switch to the role {role!r} (OUTLAY_TENANT_ROLE) that tool calls "
            f"run as: GRANT {role} TO <the user in OUTLAY_DATABASE_URL>."
        )
    return None


def as_timeout(exc: BaseException) -> QueryTimeout | None:
    """The error to show for a statement cancelled by the timeout; None for any other failure."""
    if not isinstance(exc, DBAPIError):
        return None
    if getattr(exc.orig, "sqlstate", None) != _QUERY_CANCELED and "statement timeout" not in str(exc):
        return None
    return QueryTimeout("The query took too long and was stopped; narrow the period or the filters.")
