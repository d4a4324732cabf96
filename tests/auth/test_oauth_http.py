"""OAuth over real HTTP: `outlay serve --transport http` trusting a fake issuer served on loopback, whose
JWKS it discovers from the issuer's metadata."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import MCPError

from tests.auth.issuer import FakeIssuer
from tests.transports.conftest import http_client
from tests.world import ACME_EXPENSES, GLOBEX_EXPENSES, raw

pytestmark = pytest.mark.anyio

READ = "spend:read"
READ_WRITE = "spend:read spend:write"
WRITE_TOOLS = {"categorize_expenses", "recategorize_expense", "submit_spend_request", "decide_approval"}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
Spawn = Callable[..., tuple[str, Path]]


@pytest.fixture(scope="module")
def served(spawn: Spawn, seeded_url: str, issuer: FakeIssuer) -> tuple[str, Path]:
    return spawn(seeded_url, OUTLAY_OAUTH__ISSUER=issuer.url)


@pytest.fixture(scope="module")
def server(served: tuple[str, Path]) -> str:
    return served[0]


def token(issuer: FakeIssuer, server: str, **claims: Any) -> str:
    return issuer.token(**{"aud": f"{server}/mcp", **claims})


def post(server: str, bearer: str, message: dict[str, Any]) -> httpx2.Response:
    headers = MCP_HEADERS | {"Authorization": f"Bearer {bearer}"}
    return httpx2.post(f"{server}/mcp", json=message, headers=headers, timeout=30)


def call_tool(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments},
    }


async def tool_names(server: str, bearer: str) -> set[str]:
    async with http_client(server, bearer) as client:
        return {tool.name for tool in (await client.list_tools()).tools}


@pytest.mark.parametrize(
    ("company", "expenses", "currency"),
    [("acme", ACME_EXPENSES + 1, "EUR"), ("globex", GLOBEX_EXPENSES + 1, "USD")],
)
async def test_a_valid_token_lists_and_calls_tools_for_its_company_only(
    server: str, issuer: FakeIssuer, company: str, expenses: int, currency: str
) -> None:
    async with http_client(server, token(issuer, server, company=company)) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        page = await client.call_tool("search_expenses", {"limit": 1})
        summary = await client.call_tool("summarize_spend", {"period": "2026"})

    assert "search_expenses" in tools
    assert page.structured_content is not None
    assert page.structured_content["total_matched"] == expenses
    assert summary.structured_content is not None
    assert summary.structured_content["currency"] == currency


def refused_tokens(issuer: FakeIssuer, server: str) -> dict[str, str]:
    now = int(time.time())
    if "never-published" not in issuer.keys:
        issuer.add_key("never-published", publish=False)
    return {
        "expired": token(issuer, server, exp=now - 120),
        "not yet valid": token(issuer, server, nbf=now + 300),
        "issued for another server": token(issuer, server, aud="http://127.0.0.1:1/mcp"),
        "from another issuer": token(issuer, server, iss="https://evil.example"),
        "alg=none": issuer.unsigned_token(aud=f"{server}/mcp"),
        "HS256 keyed with the public key": issuer.hs256_with_public_key(aud=f"{server}/mcp"),
        "without company": token(issuer, server, company=None),
        "signed by an unknown key": token(issuer, server, kid="never-published"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "expired",
        "not yet valid",
        "issued for another server",
        "from another issuer",
        "alg=none",
        "HS256 keyed with the public key",
        "without company",
        "signed by an unknown key",
    ],
)
def test_forged_and_misissued_tokens_get_401_with_the_metadata_address(
    server: str, issuer: FakeIssuer, case: str
) -> None:
    response = post(server, refused_tokens(issuer, server)[case], call_tool("search_expenses", {}))

    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert f'resource_metadata="{server}/.well-known/oauth-protected-resource/mcp"' in challenge


async def test_clock_skew_within_the_leeway_is_tolerated_over_http_too(
    server: str, issuer: FakeIssuer
) -> None:
    now = int(time.time())

    assert await tool_names(server, token(issuer, server, exp=now - 10, iat=now - 300))
    assert await tool_names(server, token(issuer, server, nbf=now + 10))


def test_the_protected_resource_metadata_names_the_issuer(server: str, issuer: FakeIssuer) -> None:
    response = httpx2.get(f"{server}/.well-known/oauth-protected-resource/mcp")

    assert response.status_code == 200
    metadata = response.json()
    assert metadata["resource"] == f"{server}/mcp"
    assert metadata["authorization_servers"] == [issuer.url]
    assert metadata["scopes_supported"] == ["spend:read", "spend:write", "spend:admin"]


def test_a_token_without_spend_read_gets_403(server: str, issuer: FakeIssuer) -> None:
    response = post(server, token(issuer, server, scope="openid"), call_tool("search_expenses", {}))

    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


async def test_write_tools_are_listed_only_to_tokens_with_spend_write(
    server: str, issuer: FakeIssuer
) -> None:
    readers = await tool_names(server, token(issuer, server, scope=READ))
    writers = await tool_names(server, token(issuer, server, scope=READ_WRITE))

    assert writers - readers == WRITE_TOOLS
    assert "search_expenses" in readers


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("categorize_expenses", {"apply": True}),
        ("recategorize_expense", {"expense_id": "EXP-000001", "category": "HARDWARE"}),
    ],
)
async def test_calling_a_write_tool_without_spend_write_is_403_insufficient_scope(
    served: tuple[str, Path], issuer: FakeIssuer, seeded_url: str, tool: str, arguments: dict[str, Any]
) -> None:
    server, log = served
    bearer = token(issuer, server, scope=READ, company="globex")
    categories = "SELECT ref, category_id, category_source FROM expenses ORDER BY company_id, ref"
    before = await raw(seeded_url, categories)

    response = post(server, bearer, call_tool(tool, arguments))

    assert response.status_code == 403
    challenge = response.headers["www-authenticate"]
    assert re.match(r'Bearer error="insufficient_scope", scope="spend:write"', challenge), challenge
    assert f'resource_metadata="{server}/.well-known/oauth-protected-resource/mcp"' in challenge
    assert response.json()["error"] == "insufficient_scope"
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    refusals = [line for line in lines if line["msg"] == "tool call refused"]
    assert (tool, "globex", "insufficient_scope") in [
        (line["tool"], line["company"], line["outcome"]) for line in refusals
    ]
    assert await raw(seeded_url, categories) == before


@pytest.mark.parametrize("scope", [READ, READ_WRITE])
def test_deeply_nested_json_is_a_400_parse_error_whatever_the_scopes(
    served: tuple[str, Path], issuer: FakeIssuer, scope: str
) -> None:
    server, log = served
    nested = '{"a":' * 2000 + "1" + "}" * 2000
    body = '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"search_expenses","arguments":'
    headers = MCP_HEADERS | {"Authorization": f"Bearer {token(issuer, server, scope=scope)}"}
    logged = len(log.read_text())

    response = httpx2.post(f"{server}/mcp", content=f"{body}{nested}}}}}", headers=headers, timeout=30)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32700  # the SDK's own answer: a JSON-RPC parse error
    assert "Traceback" not in log.read_text()[logged:]


def test_a_write_call_nested_deeper_than_pydantic_reads_is_still_a_403(
    served: tuple[str, Path], issuer: FakeIssuer
) -> None:
    # 300 levels: past pydantic_core's limit (200), within what the 2026-07-28 transport's json.loads reads.
    server, _ = served
    version = "2026-07-28"
    meta = {
        "io.modelcontextprotocol/protocolVersion": version,
        "io.modelcontextprotocol/clientInfo": {"name": "probe", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    nested = '{"a":' * 300 + "1" + "}" * 300
    params = json.dumps({"name": "categorize_expenses", "_meta": meta})[:-1]  # "arguments" follows
    body = f'{{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{params},"arguments":{nested}}}}}'
    headers = MCP_HEADERS | {
        "Authorization": f"Bearer {token(issuer, server, scope=READ)}",
        "MCP-Protocol-Version": version,
        "Mcp-Method": "tools/call",
        "Mcp-Name": "categorize_expenses",
    }

    response = httpx2.post(f"{server}/mcp", content=body, headers=headers, timeout=30)

    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


async def test_with_spend_write_the_write_tool_answers(server: str, issuer: FakeIssuer) -> None:
    async with http_client(server, token(issuer, server, scope=READ_WRITE)) as client:
        result = await client.call_tool("categorize_expenses", {"dry_run": True, "limit": 2})

    assert not result.is_error, result.content
    assert result.structured_content is not None


async def test_read_calls_from_read_only_tokens_pass_the_scope_gate_unchanged(
    server: str, issuer: FakeIssuer
) -> None:
    async with http_client(server, token(issuer, server, scope=READ)) as client:
        result = await client.call_tool("search_expenses", {"limit": 2, "merchant": "a"})

    assert not result.is_error, result.content


async def test_a_client_calling_a_write_tool_without_spend_write_gets_an_error(
    server: str, issuer: FakeIssuer
) -> None:
    async with http_client(server, token(issuer, server, scope=READ)) as client:
        # The SDK's client reports the 403 as an error response (a client with OAuth would step up).
        with pytest.raises(MCPError, match="error response"):
            await client.call_tool("categorize_expenses", {"apply": True})


@pytest.fixture(scope="module")
def with_keys(spawn: Spawn, seeded_url: str, issuer: FakeIssuer) -> str:
    """OAuth and development keys side by side (one key read-only), on a server of its own, so that its
    JWKS cache starts cold."""
    keys = {"read-only-key": {"company": "globex", "scopes": [READ]}, "full-key": "acme"}
    url, _ = spawn(seeded_url, OUTLAY_OAUTH__ISSUER=issuer.url, OUTLAY_API_KEYS=json.dumps(keys))
    return url


async def test_a_rotated_key_is_fetched_once_and_a_flood_of_unknown_keys_is_not(
    with_keys: str, issuer: FakeIssuer
) -> None:
    assert await tool_names(with_keys, token(issuer, with_keys))
    fetched = issuer.jwks_requests
    rotated, forged = f"rotated-{len(issuer.keys)}", f"forged-{len(issuer.keys)}"
    issuer.add_key(rotated)
    issuer.add_key(forged, publish=False)

    assert await tool_names(with_keys, token(issuer, with_keys, kid=rotated))
    assert await tool_names(with_keys, token(issuer, with_keys, kid=rotated))
    assert issuer.jwks_requests == fetched + 1
    flood = [post(with_keys, token(issuer, with_keys, kid=forged, sub=f"u{n}"), {}) for n in range(5)]
    assert [response.status_code for response in flood] == [401] * 5
    assert issuer.jwks_requests == fetched + 1


@pytest.mark.parametrize(
    ("key", "company", "write_tools"), [("full-key", "acme", WRITE_TOOLS), ("read-only-key", "globex", set())]
)
async def test_development_keys_work_beside_oauth_with_their_scopes(
    with_keys: str, key: str, company: str, write_tools: set[str]
) -> None:
    async with http_client(with_keys, key) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        summary = await client.call_tool("summarize_spend", {"period": "2026"})

    assert tools & WRITE_TOOLS == write_tools
    assert summary.structured_content is not None
    assert summary.structured_content["currency"] == {"acme": "EUR", "globex": "USD"}[company]


async def test_without_oauth_or_keys_serve_makes_a_one_off_development_key(
    spawn: Spawn, seeded_url: str
) -> None:
    url, log = spawn(seeded_url)
    printed = re.search(r"Authorization: Bearer (\S+)  \(a development key", log.read_text())
    assert printed is not None

    assert await tool_names(url, printed.group(1)) >= WRITE_TOOLS | {"search_expenses"}
    assert post(url, "guessed", call_tool("search_expenses", {})).status_code == 401


def test_with_oauth_no_development_key_is_made(spawn: Spawn, seeded_url: str, issuer: FakeIssuer) -> None:
    url, log = spawn(seeded_url, OUTLAY_OAUTH__ISSUER=issuer.url)

    assert "development key" not in log.read_text()
    assert httpx2.get(f"{url}/.well-known/oauth-protected-resource/mcp").json()["authorization_servers"] == [
        issuer.url
    ]
