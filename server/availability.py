"""The database going away mid-call: a clear, retryable message instead of a driver traceback."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError

from server.errors import OutlayError

RETRY_MESSAGE = "The database is temporarily unavailable; retry shortly."

# asyncpg's connection-level failures (server shut down, starting up, connection lost), by class name
# so that SQLite-only installs need not import asyncpg.
_CONNECTION_ERRORS = {
    "ConnectionDoesNotExistError",
    "ConnectionFailureError",
    "CannotConnectNowError",
    "AdminShutdownError",
    "CrashShutdownError",
    "InterfaceError",
    "InternalClientError",
    "PostgresConnectionError",
    "TooManyConnectionsError",
}


class DatabaseUnavailable(OutlayError):
    def __init__(self) -> None:
        super().__init__(RETRY_MESSAGE)


def is_unavailable(exc: BaseException) -> bool:
    """True for errors that say the database cannot be reached now, not that the query was wrong."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if (
            isinstance(current, ConnectionError | TimeoutError)
            or type(current).__name__ in _CONNECTION_ERRORS
        ):
            return True
        current = current.__cause__ or current.__context__
    return isinstance(exc, OperationalError) and "could not connect" in str(exc).lower()
