"""GraphQL door: viewer, API keys, limits, error codes."""

from __future__ import annotations

from tests.conftest import Tenant


async def test_viewer_answers_with_the_same_key(tenant: Tenant) -> None:
    result = await tenant.graphql("{ viewer { organization { id name plan } apiKey { id name scopes } } }")
    viewer = result["data"]["viewer"]
    assert viewer["organization"] == {"id": tenant.organization_id, "name": "acme", "plan": "pro"}
    assert viewer["apiKey"]["scopes"] == ["admin"]


async def test_query_deeper_than_the_limit_is_refused(tenant: Tenant) -> None:
    deep = "{ viewer { organization { id } " + "".join("__typename " for _ in range(1)) + "} }"
    assert "errors" not in await tenant.graphql(deep)
    nested = "{ __schema { types { fields { type { fields { type { fields { type { fields { type { name } } } } } } } } } } }"  # noqa: E501
    result = await tenant.graphql(nested)
    assert result["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "depth" in result["errors"][0]["message"].lower()
    assert result["data"] is None


async def test_api_key_mutations_and_domain_error_codes(tenant: Tenant) -> None:
    created = await tenant.graphql(
        'mutation { createApiKey(input: {name: "ci", scopes: ["actions:read"]}) { secret apiKey { id scopes } } }'
    )
    key = created["data"]["createApiKey"]
    assert key["secret"].startswith("sk_") and key["apiKey"]["scopes"] == ["actions:read"]
    listed = await tenant.graphql("{ apiKeys(first: 10) { edges { node { id } } pageInfo { hasNextPage } } }")
    assert len(listed["data"]["apiKeys"]["edges"]) == 2
    revoked = await tenant.graphql(
        "mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }", {"id": key["apiKey"]["id"]}
    )
    assert revoked["data"]["revokeApiKey"]["revokedAt"]
    bad = await tenant.graphql('mutation { createApiKey(input: {name: "x", scopes: ["root"]}) { secret } }')
    assert bad["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    missing = await tenant.graphql('mutation { revokeApiKey(id: "key_nope") { id } }')
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_syntax_errors_carry_a_code(tenant: Tenant) -> None:
    result = await tenant.graphql("{ viewer { ")
    assert result["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_more_aliases_than_the_limit_are_refused_every_time(tenant: Tenant) -> None:
    within = "{ " + " ".join(f"a{i}: __typename" for i in range(15)) + " }"
    assert "errors" not in await tenant.graphql(within)
    over = "{ " + " ".join(f"a{i}: __typename" for i in range(16)) + " }"
    for _ in range(2):  # the second answer comes from the validation cache: it must refuse too
        result = await tenant.graphql(over)
        assert result["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
        assert "alias" in result["errors"][0]["message"].lower()


async def test_more_tokens_than_the_limit_are_refused(tenant: Tenant) -> None:
    long = "{ " + " ".join("__typename" for _ in range(2100)) + " }"
    result = await tenant.graphql(long)
    assert result["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "token" in result["errors"][0]["message"].lower()


async def test_a_syntax_error_is_bad_request(tenant: Tenant) -> None:
    result = await tenant.graphql("{ viewer { ")
    assert result["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "syntax" in result["errors"][0]["message"].lower()
