"""The values the `name` label of a call's metrics may take: the registered tools, prompts and static
resources, a resource template for the URIs it serves (`outlay://expenses/{expense_id}`, never an expense
id), and the references completions accept. Anything else a caller sends is `unknown`.

A caller chooses the name it sends: labelled as sent, 2,000 made-up names fill the OpenTelemetry SDK's
series limit per metric, every later series (`outcome="unavailable"` too) lands in one overflow series
and the alerts go blind until a restart. Registered names are fixed at start-up, so the series are few."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mcp.server import MCPServer
from mcp.shared.uri_template import UriTemplate

UNKNOWN = "unknown"


@dataclass(frozen=True)
class CallNames:
    tools: frozenset[str] = frozenset()
    prompts: frozenset[str] = frozenset()
    resources: frozenset[str] = frozenset()
    templates: tuple[UriTemplate, ...] = ()

    @classmethod
    async def of(cls, mcp: MCPServer[Any]) -> CallNames:
        """What `mcp` has registered (capabilities register before the server starts)."""
        return cls(
            tools=frozenset(tool.name for tool in await mcp.list_tools()),
            prompts=frozenset(prompt.name for prompt in await mcp.list_prompts()),
            resources=frozenset(str(resource.uri) for resource in await mcp.list_resources()),
            templates=tuple(
                UriTemplate.parse(template.uri_template) for template in await mcp.list_resource_templates()
            ),
        )

    def label(self, kind: str, name: str) -> str:
        """`name` if the server knows it as a `kind` ("tool", "resource", "prompt", "completion")."""
        if kind == "tool":
            return name if name in self.tools else UNKNOWN
        if kind == "prompt":
            return name if name in self.prompts else UNKNOWN
        if kind == "resource":
            return self._resource(name)
        known = self.prompts | {template.template for template in self.templates}
        return name if kind == "completion" and name in known else UNKNOWN

    def _resource(self, uri: str) -> str:
        if uri in self.resources:
            return uri
        for template in self.templates:
            if template.match(uri) is not None:
                return template.template
        return UNKNOWN
