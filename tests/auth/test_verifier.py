"""The JWT verifier on its own: tokens from a fake issuer whose JWKS is fetched without HTTP."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import anyio
import pytest
from pydantic import ValidationError

from server.http.oauth import JwksCache, JwtVerifier, metadata_urls
from server.settings.auth import OAuthSettings
from tests.auth.issuer import AUDIENCE, FakeIssuer
from tests.clocks import Clock

pytestmark = pytest.mark.anyio


@pytest.fixture
def issuer() -> FakeIssuer:
    issuer = FakeIssuer()
    issuer.add_key("k1")
    return issuer


@pytest.fixture
def clock() -> Clock:
    return Clock()


def verifier_for(issuer: FakeIssuer, clock: Clock | None = None, **settings: Any) -> JwtVerifier:
    oauth = OAuthSettings(issuer=issuer.url, **settings)
    keys = JwksCache(oauth, fetch=issuer.fetch, clock=clock or Clock())
    return JwtVerifier(oauth, audience=AUDIENCE, keys=keys)


def _claims(token: str) -> dict[str, Any]:
    """The token's own claims (a fresh `issuer.claims()` may be a second later: the test was flaky)."""
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


async def test_a_valid_token_names_the_company_the_subject_and_the_scopes(issuer: FakeIssuer) -> None:
    token = issuer.token(scope="spend:read spend:write", azp="assistant")

    access = await verifier_for(issuer).verify_token(token)

    assert access is not None
    assert access.model_dump() == {
        "token": "<redacted>",
        "client_id": "assistant",
        "scopes": ["spend:read", "spend:write"],
        "expires_at": _claims(token)["exp"] + 30,  # the leeway: the SDK checks it again
        "resource": AUDIENCE,
        "subject": "user-1",
        "claims": {"company": "acme", "iss": issuer.url},
    }


async def test_es256_keys_and_scp_lists_are_accepted(issuer: FakeIssuer) -> None:
    issuer.add_key("ec1", kind="EC")
    token = issuer.token("ec1", scope=None, scp=["spend:read"], company="globex")

    access = await verifier_for(issuer).verify_token(token)

    assert access is not None
    assert (access.scopes, access.claims, access.client_id) == (
        ["spend:read"],
        {"company": "globex", "iss": issuer.url},
        "user-1",
    )


async def test_the_company_claim_can_have_another_name(issuer: FakeIssuer) -> None:
    verifier = verifier_for(issuer, company_claim="org")

    accepted = await verifier.verify_token(issuer.token(company=None, org="globex"))
    refused = await verifier.verify_token(issuer.token(company="acme"))

    assert accepted is not None
    assert accepted.claims == {"company": "globex", "iss": issuer.url}
    assert refused is None


async def test_the_person_behind_a_token_is_its_email_claim_or_the_configured_one(issuer: FakeIssuer) -> None:
    by_default = verifier_for(issuer)
    renamed = verifier_for(issuer, user_claim="upn")

    emailed = await by_default.verify_token(issuer.token(email="ann@acme.example"))
    nobody = await by_default.verify_token(issuer.token(email=["ann@acme.example"]))
    blank = await by_default.verify_token(issuer.token(email=" "))
    upn = await renamed.verify_token(issuer.token(email="ann@acme.example", upn="bob@acme.example"))

    assert emailed is not None
    assert emailed.claims == {"company": "acme", "iss": issuer.url, "user": "ann@acme.example"}
    assert nobody is not None  # a claim of the wrong shape names nobody; the token still reads
    assert nobody.claims == {"company": "acme", "iss": issuer.url}
    assert blank is not None
    assert blank.claims == {"company": "acme", "iss": issuer.url}
    assert upn is not None
    assert upn.claims == {"company": "acme", "iss": issuer.url, "user": "bob@acme.example"}


async def test_an_audience_list_that_holds_this_server_is_accepted(issuer: FakeIssuer) -> None:
    token = issuer.token(aud=["https://other.example", AUDIENCE])

    assert await verifier_for(issuer).verify_token(token) is not None


def forged(issuer: FakeIssuer) -> dict[str, str]:
    now = int(time.time())
    issuer.add_key("unpublished", publish=False)
    issuer.add_key("ec1", kind="EC")
    return {
        "expired": issuer.token(exp=now - 60),
        "not yet valid": issuer.token(nbf=now + 120),
        "issued for another server": issuer.token(aud="https://other.example/mcp"),
        "no audience": issuer.token(aud=None),
        "from another issuer": issuer.token(iss="https://evil.example"),
        "without expiry": issuer.token(exp=None),
        "without subject": issuer.token(sub=None),
        "without company": issuer.token(company=None),
        "with an empty company": issuer.token(company=""),
        "alg=none": issuer.unsigned_token(),
        "HS256 keyed with the public key": issuer.hs256_with_public_key(),
        "signed by a key the issuer never published": issuer.token("unpublished"),
        "tampered": issuer.token()[:-4] + "AAAA",
        "not a JWT": "not-a-jwt",
    }


@pytest.mark.parametrize(
    "case",
    [
        "expired",
        "not yet valid",
        "issued for another server",
        "no audience",
        "from another issuer",
        "without expiry",
        "without subject",
        "without company",
        "with an empty company",
        "alg=none",
        "HS256 keyed with the public key",
        "signed by a key the issuer never published",
        "tampered",
        "not a JWT",
    ],
)
async def test_forged_and_misissued_tokens_are_refused(issuer: FakeIssuer, case: str) -> None:
    assert await verifier_for(issuer).verify_token(forged(issuer)[case]) is None


@pytest.mark.parametrize(
    ("claims", "scopes"), [({"scope": 7}, []), ({"scope": None, "scp": ["spend:read", 1]}, ["spend:read"])]
)
async def test_scopes_of_the_wrong_shape_grant_nothing(
    issuer: FakeIssuer, claims: dict[str, Any], scopes: list[str]
) -> None:
    access = await verifier_for(issuer).verify_token(issuer.token(**claims))

    assert access is not None
    assert access.scopes == scopes


async def test_a_key_id_that_is_not_a_string_is_refused(issuer: FakeIssuer) -> None:
    _, payload, signature = issuer.token().split(".")
    header = (
        base64.urlsafe_b64encode(json.dumps({"alg": "RS256", "kid": ["k1"]}).encode()).decode().rstrip("=")
    )

    assert await verifier_for(issuer).verify_token(f"{header}.{payload}.{signature}") is None


async def test_metadata_without_a_jwks_uri_is_not_trusted(issuer: FakeIssuer) -> None:
    issuer.metadata = lambda: {"issuer": issuer.url}  # type: ignore[method-assign]

    assert await verifier_for(issuer).verify_token(issuer.token()) is None


async def test_a_token_cannot_pick_a_key_of_another_type(issuer: FakeIssuer) -> None:
    issuer.add_key("ec1", kind="EC")
    # An ES256 token whose header names the RSA key: the signature is never even tried.
    token = issuer.token("ec1", header={"kid": "k1"})

    assert await verifier_for(issuer).verify_token(token) is None
    assert (
        await verifier_for(issuer, algorithms=["RS256", "ES256"]).verify_token(issuer.token("ec1"))
        is not None
    )


async def test_a_token_without_kid_is_checked_against_the_issuers_only_key(issuer: FakeIssuer) -> None:
    token = issuer.token(header={"kid": None})

    assert await verifier_for(issuer).verify_token(token) is not None
    issuer.add_key("k2")
    assert await verifier_for(issuer).verify_token(token) is None


async def test_clock_skew_within_the_leeway_is_tolerated(issuer: FakeIssuer) -> None:
    now = int(time.time())
    verifier = verifier_for(issuer, leeway_seconds=30)

    assert await verifier.verify_token(issuer.token(exp=now - 10)) is not None
    assert await verifier.verify_token(issuer.token(nbf=now + 10)) is not None
    assert await verifier.verify_token(issuer.token(exp=now - 40)) is None


async def test_an_allow_list_without_the_tokens_algorithm_refuses_it(issuer: FakeIssuer) -> None:
    assert await verifier_for(issuer, algorithms=["ES256"]).verify_token(issuer.token()) is None


@pytest.mark.parametrize("algorithms", [["HS256"], ["RS256", "none"], ["HS512"], []])
def test_symmetric_and_unsigned_algorithms_cannot_be_configured(algorithms: list[str]) -> None:
    with pytest.raises(ValidationError):
        OAuthSettings(issuer="https://issuer.example", algorithms=algorithms)


async def test_an_unknown_kid_refetches_the_jwks_once_then_accepts_the_rotated_key(
    issuer: FakeIssuer, clock: Clock
) -> None:
    verifier = verifier_for(issuer, clock)
    assert await verifier.verify_token(issuer.token()) is not None
    issuer.add_key("k2")

    assert await verifier.verify_token(issuer.token("k2")) is not None
    assert await verifier.verify_token(issuer.token("k2")) is not None
    assert issuer.jwks_requests == 2


async def test_a_flood_of_unknown_kids_fetches_at_most_once_per_interval(
    issuer: FakeIssuer, clock: Clock
) -> None:
    verifier = verifier_for(issuer, clock, jwks_refresh_seconds=60)
    issuer.add_key("forged", publish=False)
    results = [await verifier.verify_token(issuer.token("forged", sub=f"u{n}")) for n in range(50)]
    assert issuer.jwks_requests == 2  # the first load, one refresh for the unknown kid

    clock.now += 61
    assert await verifier.verify_token(issuer.token("forged")) is None

    assert results == [None] * 50
    assert issuer.jwks_requests == 3


async def test_keys_are_refetched_when_the_cache_expires(issuer: FakeIssuer, clock: Clock) -> None:
    verifier = verifier_for(issuer, clock, jwks_cache_seconds=600)
    await verifier.verify_token(issuer.token())
    clock.now += 599
    await verifier.verify_token(issuer.token())
    assert issuer.jwks_requests == 1

    clock.now += 2
    await verifier.verify_token(issuer.token())

    assert issuer.jwks_requests == 2


async def test_an_issuer_outage_keeps_the_keys_already_fetched(issuer: FakeIssuer, clock: Clock) -> None:
    verifier = verifier_for(issuer, clock, jwks_cache_seconds=600)
    assert await verifier.verify_token(issuer.token()) is not None
    issuer.failing = True
    clock.now += 601

    assert await verifier.verify_token(issuer.token()) is not None


async def test_without_keys_every_token_is_refused(issuer: FakeIssuer) -> None:
    issuer.failing = True

    assert await verifier_for(issuer).verify_token(issuer.token()) is None


async def test_concurrent_first_requests_share_one_fetch(issuer: FakeIssuer) -> None:
    verifier = verifier_for(issuer)
    results: list[object] = []

    async def verify() -> None:
        results.append(await verifier.verify_token(issuer.token()))

    async with anyio.create_task_group() as tasks:
        for _ in range(20):
            tasks.start_soon(verify)

    assert None not in results
    assert len(results) == 20
    assert issuer.jwks_requests == 1


async def test_the_jwks_url_is_discovered_from_the_issuers_metadata(issuer: FakeIssuer) -> None:
    assert await verifier_for(issuer).verify_token(issuer.token()) is not None
    assert (issuer.metadata_requests, issuer.jwks_requests) == (1, 1)


async def test_metadata_naming_another_issuer_is_not_trusted(issuer: FakeIssuer) -> None:
    real = issuer.metadata
    issuer.metadata = lambda: {**real(), "issuer": "https://evil.example"}  # type: ignore[method-assign]

    assert await verifier_for(issuer).verify_token(issuer.token()) is None
    assert issuer.jwks_requests == 0


async def test_a_configured_jwks_url_skips_discovery(issuer: FakeIssuer) -> None:
    verifier = verifier_for(issuer, jwks_url=f"{issuer.url}/jwks.json")

    assert await verifier.verify_token(issuer.token()) is not None
    assert (issuer.metadata_requests, issuer.jwks_requests) == (0, 1)


def test_metadata_is_looked_up_the_openid_way_then_the_rfc_8414_way() -> None:
    assert metadata_urls("https://login.example/tenant-1/") == [
        "https://login.example/tenant-1/.well-known/openid-configuration",
        "https://login.example/.well-known/oauth-authorization-server/tenant-1",
    ]


async def test_while_old_keys_are_refreshed_other_requests_use_them(issuer: FakeIssuer, clock: Clock) -> None:
    verifier = verifier_for(issuer, clock, jwks_cache_seconds=600)
    assert await verifier.verify_token(issuer.token()) is not None
    issuer.stall = release = anyio.Event()
    clock.now += 601
    answered: list[object] = []
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(verifier.verify_token, issuer.token())  # refreshes, and waits for the issuer
        await anyio.wait_all_tasks_blocked()
        with anyio.fail_after(1):
            for _ in range(5):
                answered.append(await verifier.verify_token(issuer.token()))
        release.set()

    assert None not in answered
    assert len(answered) == 5
    assert issuer.jwks_requests == 2
