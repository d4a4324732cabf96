"""Registers the workflow prompts, refuses bad arguments with errors the user can act on, and completes
the arguments that name the company's teams, people, categories and periods."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver.prompts.base import Prompt
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS

from prompts.workflows.catalog import PROMPTS
from server import completions
from server.argument_errors import known_arguments

if TYPE_CHECKING:
    from mcp.server import MCPServer
    from mcp.server.mcpserver import Context
    from mcp.server.mcpserver.prompts.base import Message
    from mcp_types import Completion, CompletionArgument, InputRequiredResult

    from server.context import AppContext

# Which lookup completes which argument: every argument that names something of the company.
COMPLETIONS: dict[str, dict[str, completions.Lookup]] = {
    "month_end_close": {"period": completions.spend_periods},
    "budget_check": {"team": completions.teams, "period": completions.budget_periods},
    "approval_triage": {
        "requester": completions.employees,
        "category": completions.categories,
        "team": completions.teams,
    },
    "categorize_backlog": {"team": completions.teams, "since": completions.month_starts},
    "spend_review": {"team": completions.teams, "period": completions.spend_periods},
    "policy_review": {"team": completions.teams, "period": completions.spend_periods},
}


class WorkflowPrompt(Prompt):
    """A prompt that refuses unknown arguments and missing (or blank) required ones with a protocol error
    saying what each takes: the SDK's own check raises an error the client sees as a server failure."""

    async def render(
        self, arguments: dict[str, Any] | None, context: Context[Any, Any]
    ) -> list[Message] | InputRequiredResult:
        refuse_bad_arguments(self, arguments or {})
        return await super().render(arguments, context)


def refuse_bad_arguments(prompt: Prompt, arguments: dict[str, Any]) -> None:
    declared = prompt.arguments or []
    names = [argument.name for argument in declared]
    unknown = sorted(set(arguments) - set(names))
    if unknown:  # in the words a tool's unknown argument gets; several: every argument is listed
        takes = known_arguments(unknown[0] if len(unknown) == 1 else "", names)
        raise MCPError(INVALID_PARAMS, f"{prompt.name} has no argument {', '.join(unknown)}: {takes}")
    missing = [arg for arg in declared if arg.required and not str(arguments.get(arg.name) or "").strip()]
    if missing:
        needs = "; ".join(f"{arg.name} ({arg.description})" for arg in missing)
        raise MCPError(INVALID_PARAMS, f"{prompt.name} needs {needs}")


def register(mcp: MCPServer[AppContext]) -> None:
    for function, title, description in PROMPTS:
        mcp.add_prompt(WorkflowPrompt.from_function(function, title=title, description=description))


async def complete(prompt: str, argument: CompletionArgument) -> Completion | None:
    """Values for a prompt's argument; None (an empty completion) for anything that names nothing."""
    lookup = COMPLETIONS.get(prompt, {}).get(argument.name)
    if lookup is None:
        return None
    return await completions.complete(lookup, argument.value, argument=argument.name)
