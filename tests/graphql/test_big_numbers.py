"""Integers past 64 bits: a GraphQL literal can carry any integer (a JSON body cannot), and orjson,
which writes every answer, refuses them. They are refused as input, never a 500."""

from __future__ import annotations

from tests.conftest import Tenant

BIG = 123456789012345678901234567890


async def test_a_huge_integer_in_params_is_a_validation_error_and_stores_nothing(tenant: Tenant) -> None:
    document = (
        'mutation { proposeAction(input: {type: "send_email", actor: {kind: "agent", name: "bot"}, '
        f"params: {{n: [1, {{deep: {BIG}}}]}}}}) {{ action {{ id params }} }} }}"
    )
    async with tenant.client() as c:
        answer = await c.post("/graphql", json={"query": document})
        assert answer.status_code == 200
        error = answer.json()["errors"][0]
        assert error["extensions"]["code"] == "VALIDATION_ERROR" and "64 bits" in error["message"]
        assert (await c.get("/api/v1/actions")).json() == []


async def test_a_huge_integer_in_policy_rules_is_a_validation_error(tenant: Tenant) -> None:
    document = (
        'mutation { createPolicy(input: {name: "p", rules: [{when: {actionType: "x"}, '
        f'approval: "manual", expiresIn: {BIG}}}]}}) {{ id }} }}'
    )
    answer = await tenant.graphql(document)
    assert answer["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    assert (await tenant.graphql("{ policies(first: 5) { edges { node { id } } } }"))["data"]["policies"]["edges"] == []
