"""MCP prompts: the spend workflows a user starts from a client's prompt menu, one step instead of many
tool calls. The text of each is `<name>.md` in this folder."""

from prompts.workflows.handlers import complete, register

__all__ = ["complete", "register"]
