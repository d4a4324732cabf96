"""MCP adapter for get_job: a job of the caller's company, its progress and, once done, its result."""

# No `from __future__ import annotations`: the SDK evaluates these signatures to build the schemas.
from typing import Annotated

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import Field

from server.calls import tool_call, tool_result
from server.context import AppContext
from server.errors import NotFound
from server.jobs.schemas import JobView, summary, view

DESCRIPTION = """\
Where a job stands: long work a call handed to the job queue (e.g. categorize_expenses with
whole_backlog=true returns a `job` instead of waiting). Pass its `job_id`. The answer says the status
(queued, running, succeeded, failed, dead), progress (done of total, with a message), and, once
succeeded, the `result`. While it is queued or running, call again after a few seconds; do not start
the work again (the same call returns the same job). A job of another company is not found."""

READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)


def register(mcp: MCPServer[AppContext]) -> None:
    mcp.tool(title="Follow a job", description=DESCRIPTION, annotations=READ_ONLY)(get_job)


async def get_job(
    ctx: Context[AppContext],
    job_id: Annotated[int, Field(ge=1, description="The job_id a call returned.")],
) -> Annotated[CallToolResult, JobView]:
    from server.jobs import store  # SQLAlchemy loads with the first call, not at start-up

    async with tool_call(ctx, "get_job") as call:
        job = await store.of_company(call.session, call.caller.company_id, job_id)
        if job is None:
            raise NotFound(f"no job {job_id} of {call.caller.company_slug}")
        output = view(job)
    return tool_result(output, summary(output))
