"""get_job and whole_backlog through an MCP client session: without a queue the job runs within the call;
a company never sees another's jobs, through get_job or `outlay jobs list --company`."""

from __future__ import annotations

import asyncio
import json
import subprocess

import pytest
from mcp.server import MCPServer
from mcp_types import CallToolResult, TextContent
from pydantic import SecretStr

from server.app import build_server
from server.context import AppContext
from server.settings import Settings
from server.settings.jobs import JobSettings
from tests.jobs.conftest import outlay
from tests.world import CURSOR_SECRET, TODAY, call_ok, connect, seed_world

pytestmark = pytest.mark.anyio
BACKLOG = {"apply": True, "whole_backlog": True, "idempotency_key": "close-2026-07"}


def settings_for(url: str, company: str | None = None, queue: str = "inline") -> Settings:
    return Settings(
        database_url=url,
        company=company,
        today=TODAY,
        cursor_secret=SecretStr(CURSOR_SECRET),
        jobs=JobSettings(queue=queue),
    )


def server(url: str, company: str, queue: str = "inline") -> MCPServer[AppContext]:
    return build_server(settings_for(url, company, queue), local_company=company)


@pytest.fixture
async def world_url(database_url: str) -> str:
    await seed_world(database_url)
    return database_url


async def test_without_a_queue_the_whole_backlog_runs_within_the_call(world_url: str) -> None:
    async with connect(server(world_url, "acme"), "auto") as acme:
        first = await call_ok(acme, "categorize_expenses", BACKLOG)
        again = await call_ok(acme, "categorize_expenses", BACKLOG)
        followed = await call_ok(acme, "get_job", {"job_id": first["job"]["job_id"]})

    assert first["items"] == []
    assert first["job"]["status"] == "succeeded"
    assert first["job"]["kind"] == "categorize_backlog"
    assert set(first["job"]["result"]) == {"done", "applied", "counts", "model_version"}
    assert again["job"] == first["job"]  # the same key, the same job: the work is not done twice
    assert followed == first["job"]


async def test_another_company_never_gets_a_job_of_acme(world_url: str) -> None:
    async with connect(server(world_url, "acme"), "auto") as acme:
        job_id = (await call_ok(acme, "categorize_expenses", BACKLOG))["job"]["job_id"]
    async with connect(server(world_url, "globex"), "auto") as globex:
        refused = await globex.call_tool("get_job", {"job_id": job_id})

    assert refused.is_error
    assert refused.content[0].text == f"Error executing tool get_job: no job {job_id} of globex"  # type: ignore[union-attr]
    of_globex = await asyncio.to_thread(
        outlay, "jobs", "list", "--json", "--company", "globex", url=world_url
    )
    of_acme = await asyncio.to_thread(outlay, "jobs", "list", "--json", "--company", "acme", url=world_url)
    assert (of_globex.returncode, json.loads(of_globex.stdout)) == (0, [])
    assert [job["id"] for job in json.loads(of_acme.stdout)] == [job_id]


async def test_whole_backlog_needs_apply_and_no_ids(world_url: str) -> None:
    async with connect(server(world_url, "acme"), "auto") as acme:
        dry = await acme.call_tool("categorize_expenses", {"whole_backlog": True})
        ids = await acme.call_tool(
            "categorize_expenses", {"whole_backlog": True, "apply": True, "expense_ids": ["EXP-1"]}
        )

    assert dry.is_error
    assert "whole_backlog writes (apply=true" in text_of(dry)
    assert ids.is_error
    assert "leave out expense_ids and cursor" in text_of(ids)


def text_of(result: CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


def listed(url: str, company: str) -> subprocess.CompletedProcess[str]:
    return outlay("jobs", "list", "--json", "--company", company, url=url)
