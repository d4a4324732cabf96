"""Domain errors: messages written for the agent that will read them.

    OutlayError            anything the caller can fix by changing the request
    ├── NotFound           an id, name, email or code that does not exist in the caller's company
    ├── Ambiguous          a name that matches several things (the message lists the candidates)
    └── InvalidArgument    a well-formed value that makes no sense (bad range, tampered cursor, ...)

The tool adapter (`server.calls`) turns these into MCP tool errors; anything else is a bug and reaches
the client only as a generic failure, with the details in the server log.
"""

from __future__ import annotations


class OutlayError(Exception):
    """An error whose message is safe and useful to show to the caller."""


class NotFound(OutlayError):
    pass


class Ambiguous(OutlayError):
    pass


class InvalidArgument(OutlayError):
    pass
