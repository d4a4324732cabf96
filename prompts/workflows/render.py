"""A prompt's messages: its text, `<prompt name>.md` in this folder with `$name` placeholders
(`string.Template`: `$$` is a dollar sign), then each resource it names, embedded as the resource
read returns it, so that the client attaches the data along with the instructions."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING

from mcp.server.mcpserver.exceptions import ResourceError
from mcp.server.mcpserver.prompts.base import Message, UserMessage
from mcp_types import EmbeddedResource, TextResourceContents

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context

    from server.context import AppContext

FOLDER = Path(__file__).parent


@cache
def template(name: str) -> Template:
    """Read once per process: the files ship with the code."""
    return Template((FOLDER / f"{name}.md").read_text(encoding="utf-8"))


def text(name: str, values: Mapping[str, str]) -> str:
    """The text with every placeholder filled. A placeholder without a value, or a value without a
    placeholder, is a bug here: never something to show a user half-rendered."""
    filled = template(name)
    wanted = set(filled.get_identifiers())
    if wanted != set(values):
        raise ValueError(
            f"{name}.md takes {sorted(wanted)}; missing {sorted(wanted - set(values))}, "
            f"unused {sorted(set(values) - wanted)}"
        )
    return filled.substitute(values).strip()


def call_arguments(arguments: Mapping[str, str | bool]) -> str:
    """Tool arguments as the texts write them: team="Marketing", apply=true."""
    return ", ".join(f"{name}={json.dumps(value)}" for name, value in arguments.items())


async def messages(
    ctx: Context[AppContext], name: str, values: Mapping[str, str], uris: list[str]
) -> list[Message]:
    return [UserMessage(text(name, values)), *[await attach(ctx, uri) for uri in uris]]


async def attach(ctx: Context[AppContext], uri: str) -> Message:
    """The resource embedded; if it cannot be read (a company without an approval policy), a line
    saying why, so that the prompt still renders."""
    try:
        [content] = await ctx.read_resource(uri)
    except ResourceError as exc:
        return UserMessage(f"{uri} could not be attached: {exc}")
    body = content.content if isinstance(content.content, str) else content.content.decode("utf-8")
    resource = TextResourceContents(uri=uri, mime_type=content.mime_type, text=body)
    return UserMessage(EmbeddedResource(type="resource", resource=resource))
