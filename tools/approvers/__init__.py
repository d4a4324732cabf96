"""Approvers capability: suggest_approver (the approval chain a policy requires, and who acts)."""

from tools.approvers.tool import register

__all__ = ["register"]
