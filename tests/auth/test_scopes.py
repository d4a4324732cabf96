"""Scopes without HTTP: in-memory clients acting for a token, the gate's body reading, API keys, and
which verifier `bearer_auth` builds from settings."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from mcp import Client
from mcp.server import MCPServer
from mcp.server.auth.middleware.auth_context import auth_context_var
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken

from server.context import AppContext
from server.http.auth import ApiKeyVerifier, EitherVerifier, bearer_auth, token_digest
from server.http.oauth import JwtVerifier
from server.http.scopes import called_tools
from server.settings import Settings
from server.settings.auth import ApiKeyGrant, OAuthSettings
from tests.world import connect, raw

pytestmark = pytest.mark.anyio

WRITE_TOOLS = {"categorize_expenses", "recategorize_expense", "submit_spend_request", "decide_approval"}


@pytest.fixture
def acting_for(request: pytest.FixtureRequest) -> Iterator[list[str]]:
    """The in-memory server sees the token an HTTP request would have carried."""
    scopes = list(request.param)
    token = AccessToken(token="-", client_id="c", subject="s", scopes=scopes, claims={"company": "acme"})
    reset = auth_context_var.set(AuthenticatedUser(token))
    yield scopes
    auth_context_var.reset(reset)


@pytest.fixture
async def client(
    servers: Callable[[str, str], MCPServer[AppContext]], seeded_url: str, acting_for: list[str]
) -> AsyncIterator[Client]:
    async with connect(servers(seeded_url, "acme"), "auto") as client:
        yield client


@pytest.mark.parametrize("acting_for", [["spend:read"]], indirect=True)
async def test_without_spend_write_the_write_tools_are_hidden_and_refused(client: Client) -> None:
    tools = {tool.name for tool in (await client.list_tools()).tools}
    refused = [
        await client.call_tool("categorize_expenses", {"dry_run": True}),
        await client.call_tool("recategorize_expense", {"expense_id": "EXP-000001", "category": "TRAVEL"}),
        await client.call_tool("submit_spend_request", {"requester": "Ann Lee", "amount": "100"}),
        await client.call_tool("decide_approval", {"request_id": "APR-0001", "decision": "approve"}),
    ]

    assert not tools & WRITE_TOOLS
    assert "search_expenses" in tools
    assert [(r.is_error, r.content[0].model_dump()["text"]) for r in refused] == [
        (True, f"insufficient_scope: {name} writes, and needs a token with the spend:write scope.")
        for name in ("categorize_expenses", "recategorize_expense", "submit_spend_request", "decide_approval")
    ]


@pytest.mark.parametrize("acting_for", [["spend:read"]], indirect=True)
async def test_a_refused_write_call_is_audited_as_insufficient_scope(client: Client, seeded_url: str) -> None:
    # The shared database's trail holds other tests' rows: this one's subject (`s`) writes no others.
    await client.call_tool("recategorize_expense", {"expense_id": "EXP-000002", "category": "TRAVEL"})

    rows = await raw(
        seeded_url,
        "SELECT DISTINCT company, kind, outcome FROM audit_events "
        "WHERE subject = 's' AND name = 'recategorize_expense'",
    )
    assert rows == [("acme", "tool", "insufficient_scope")]


@pytest.mark.parametrize("acting_for", [["spend:read", "spend:write"]], indirect=True)
async def test_with_spend_write_the_write_tools_are_listed(client: Client) -> None:
    tools = {tool.name for tool in (await client.list_tools()).tools}

    assert tools >= WRITE_TOOLS


async def test_local_callers_have_every_scope(acme: Client) -> None:
    tools = {tool.name for tool in (await acme.list_tools()).tools}

    assert tools >= WRITE_TOOLS


def rpc(name: str) -> dict[str, object]:
    return {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name}}


@pytest.mark.parametrize(
    ("body", "called"),
    [
        (json.dumps(rpc("categorize_expenses")).encode(), {"categorize_expenses"}),
        (json.dumps([rpc("a"), rpc("b"), {"method": "tools/list"}]).encode(), {"a", "b"}),
        (json.dumps({"method": "tools/call", "params": "x"}).encode(), set()),
        (b"{not json", set()),
        (b"", set()),
    ],
)
def test_the_gate_reads_which_tools_a_body_calls(body: bytes, called: set[str]) -> None:
    assert called_tools(body) == called


async def test_api_keys_grant_their_company_and_scopes() -> None:
    verifier = ApiKeyVerifier(
        {
            "plain": "acme",
            f"sha256:{token_digest('digested').upper()}": "globex",
            "narrow": ApiKeyGrant(company="globex", scopes=["spend:read"]),
        },
        resource="http://127.0.0.1:8000/mcp",
    )

    plain, digested, narrow = [await verifier.verify_token(key) for key in ("plain", "digested", "narrow")]

    assert plain is not None
    assert (plain.claims, plain.scopes, plain.resource) == (
        {"company": "acme"},
        ["spend:read", "spend:write"],
        "http://127.0.0.1:8000/mcp",
    )
    assert digested is not None
    assert digested.claims == {"company": "globex"}
    assert narrow is not None
    assert narrow.scopes == ["spend:read"]
    assert await verifier.verify_token("unknown") is None


async def test_an_api_key_bound_to_an_employee_names_them_and_others_name_nobody() -> None:
    verifier = ApiKeyVerifier(
        {"bound": ApiKeyGrant(company="acme", user="ann@acme.example"), "service": "acme"}
    )

    bound, service = [await verifier.verify_token(key) for key in ("bound", "service")]

    assert bound is not None
    assert bound.claims == {"company": "acme", "user": "ann@acme.example"}
    assert service is not None
    assert service.claims == {"company": "acme"}


def test_api_keys_parse_from_json_in_both_forms(monkeypatch: pytest.MonkeyPatch) -> None:
    keys = {"a": "acme", "b": {"company": "globex", "scopes": ["spend:read"]}}
    monkeypatch.setenv("OUTLAY_API_KEYS", json.dumps(keys))

    assert Settings().api_keys == {"a": "acme", "b": ApiKeyGrant(company="globex", scopes=["spend:read"])}


def test_without_oauth_or_keys_there_is_no_bearer_auth() -> None:
    assert bearer_auth(Settings()) == (None, None)


def test_oauth_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTLAY_OAUTH__ISSUER", "https://login.example")
    monkeypatch.setenv("OUTLAY_OAUTH__ALGORITHMS", '["ES256"]')

    assert Settings().oauth == OAuthSettings(issuer="https://login.example", algorithms=["ES256"])


def test_oauth_validates_the_audience_as_this_servers_resource_url() -> None:
    settings = Settings(
        public_url="https://outlay.example", oauth=OAuthSettings(issuer="https://login.example")
    )

    verifier, auth = bearer_auth(settings)

    assert isinstance(verifier, JwtVerifier)
    assert auth is not None
    assert (str(auth.issuer_url), str(auth.resource_server_url)) == (
        "https://login.example",
        "https://outlay.example/mcp",
    )
    assert (auth.required_scopes, auth.validate_token_resource) == (["spend:read"], True)


def test_an_audience_that_is_not_the_resource_url_is_checked_by_the_verifier_alone() -> None:
    oauth = OAuthSettings(issuer="https://login.example", audience="api://outlay")

    verifier, auth = bearer_auth(Settings(oauth=oauth, api_keys={"k": "acme"}))

    assert isinstance(verifier, EitherVerifier)
    assert auth is not None
    assert auth.validate_token_resource is False
