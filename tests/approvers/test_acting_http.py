"""Filing and deciding over streamable HTTP, as deployed (`outlay serve --transport http`): API keys
bound to one employee say who the person is; a key without a user files on a requester's behalf and
never decides; a key without spend:write does neither."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp.shared.exceptions import MCPError

from server.http.auth import token_digest
from tests.transports.conftest import http_client, server_env, start_http_server
from tests.world import call_error, call_ok, raw

pytestmark = pytest.mark.anyio

KEYS = {
    "dev-key": {"company": "northwind", "user": "dev@nw.test"},
    "lee-key": {"company": "northwind", "user": "LEAD@nw.test"},  # e-mails compare in any case
    "ceo-reader-key": {"company": "northwind", "user": "ceo@nw.test", "scopes": ["spend:read"]},
    "service-key": "northwind",
}


@pytest.fixture
def url(nw: str, tmp_path: Path) -> Iterator[str]:
    env = server_env(nw, OUTLAY_API_KEYS=json.dumps(KEYS)) | {"OUTLAY_TODAY": "2026-07-20"}
    process, base = start_http_server(tmp_path / "server.log", env)
    yield base
    process.terminate()
    process.wait(timeout=30)


async def test_people_behind_api_keys_file_and_decide(url: str, nw: str) -> None:
    async with http_client(url, "dev-key") as dev:
        filed = await call_ok(dev, "submit_spend_request", {"amount": "300", "idempotency_key": "k-1"})
    async with http_client(url, "service-key") as service:
        on_behalf = await call_ok(
            service, "submit_spend_request", {"requester": "rep@nw.test", "amount": "300"}
        )
        no_user = await call_error(
            service, "decide_approval", {"request_id": "APR-00001", "decision": "approve"}
        )
    async with http_client(url, "ceo-reader-key") as reader:
        listed = {tool.name for tool in (await reader.list_tools()).tools}
        with pytest.raises(MCPError):  # 403 insufficient_scope: the client may step up its token
            await reader.call_tool("decide_approval", {"request_id": "APR-00001", "decision": "approve"})
    async with http_client(url, "lee-key") as lee:
        decided = await call_ok(lee, "decide_approval", {"request_id": "APR-00001", "decision": "approve"})

    assert (filed["request_id"], filed["filed_by"], filed["filed_on_behalf"]) == (
        "APR-00001",
        "dev@nw.test",
        False,
    )
    assert (on_behalf["request_id"], on_behalf["filed_on_behalf"]) == ("APR-00002", True)
    assert on_behalf["filed_by"] == f"api-key:{token_digest('service-key')[:12]}"  # the key's subject
    assert no_user.startswith("Error executing tool decide_approval: this token names no user")
    assert not {"submit_spend_request", "decide_approval"} & listed
    assert (decided["decided_by"]["email"], decided["status"]) == ("lead@nw.test", "approved")
    assert await raw(
        nw,
        "SELECT r.ref, r.status, a.email FROM approval_requests r JOIN approval_decisions d "
        "ON d.request_id = r.id JOIN employees a ON a.id = d.approver_id WHERE r.ref LIKE 'APR-%'",
    ) == [("APR-00001", "approved", "lead@nw.test")]
