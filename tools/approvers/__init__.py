"""Approvers capability: suggest_approver (the approval chain a policy requires, and who acts), and the
approvals that act on it: submit_spend_request (file a request) and decide_approval (decide a step)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tools.approvers import acting_tool, tool

if TYPE_CHECKING:
    from mcp.server import MCPServer

    from server.context import AppContext

__all__ = ["register"]


def register(mcp: MCPServer[AppContext]) -> None:
    tool.register(mcp)
    acting_tool.register(mcp)
