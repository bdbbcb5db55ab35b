"""Integers past 64 bits: a GraphQL literal can carry any integer (a JSON body cannot), and orjson,
which writes every answer, refuses them. They are refused as input, never a 500."""

from __future__ import annotations

import json

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


WIDE = {"type": "send_email", "actor": {"kind": "agent", "name": "bot"},
        "params": {"exact": 18446744073709551617, "id": "18446744073709551617"}}
PROPOSE = "mutation($input: ProposeActionInput!) { proposeAction(input: $input) { action { id params } } }"


async def test_a_json_body_with_an_integer_past_64_bits_is_refused_at_both_doors(tenant: Tenant) -> None:
    """orjson reads such an integer as a float (2**64 + 1 stored as 2**64, a reviewer shown another
    number than the agent sent): REST and GraphQL variables refuse it as GraphQL literals do. A
    string of those digits, and the largest integers that fit, are kept exactly."""
    fits = {**WIDE, "params": {"largest": 2**64 - 1, "smallest": -(2**63), "id": "18446744073709551617"}}
    async with tenant.client() as c:
        rest = await c.post("/actions", json=WIDE)
        graphql = await c.post("/graphql", json={"query": PROPOSE, "variables": {"input": WIDE}})
        kept = await c.post("/actions", json=fits)
        listed = (await c.get("/api/v1/actions")).json()
    assert rest.status_code == 400, rest.text
    assert rest.json() == {"error": "VALIDATION_ERROR", "message": "integers must fit in 64 bits"}
    assert graphql.status_code == 400, graphql.text
    assert graphql.json()["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    assert "64 bits" in graphql.json()["errors"][0]["message"]
    assert kept.status_code == 201, kept.text
    assert [action["params"] for action in listed] == [fits["params"]]


async def test_a_literal_number_json_cannot_write_is_refused_not_stored_as_null(tenant: Tenant) -> None:
    """`1e999` in a GraphQL literal reads as infinity, which orjson wrote as null: the action was
    stored with `{"a": null}` and the call answered as a success."""
    document = ('mutation { proposeAction(input: {type: "send_email", actor: {kind: "agent", name: "bot"}, '
                'params: {a: [1, {b: -1e999}]}}) { action { id params } } }')
    async with tenant.client() as c:
        answer = await c.post("/graphql", json={"query": document})
        listed = (await c.get("/api/v1/actions")).json()
    error = answer.json()["errors"][0]
    assert "finite" in error["message"] and error["extensions"]["code"] == "BAD_REQUEST", error
    assert answer.json().get("data") is None and listed == []


async def test_a_body_graphql_cannot_read_is_answered_as_a_graphql_error_in_json(tenant: Tenant) -> None:
    """Strawberry answered these with a line of text/plain, which a client's JSON parser fails on."""
    async with tenant.client() as c:
        answers = [await c.post("/graphql", content=body, headers={"content-type": "application/json"})
                   for body in (b'{"query":', b'[{"query": "{ __typename }"}]', b'{"query": "\\ud800"}', b"{}")]
    for answer in answers:
        assert answer.status_code == 400, answer.text
        assert answer.headers["content-type"].startswith("application/json"), answer.headers
        error = answer.json()["errors"][0]
        assert error["extensions"]["code"] == "BAD_REQUEST" and error["message"], error


async def test_a_mutation_over_the_websocket_with_an_integer_past_64_bits_is_refused(tenant: Tenant) -> None:
    """A WebSocket message is read with orjson too, without the HTTP door's check: proposeAction over
    graphql-transport-ws stored `{"exact": 1.8446744073709552e+19}` and answered `next` with it. The
    operation now gets an `error` with the HTTP door's code and message, and the connection stays usable."""
    from tests.graphql.ws import gql_ws

    async with gql_ws(tenant.base_url, tenant.key) as ws:
        await ws.ws.send(json.dumps({"type": "subscribe", "id": "wide",  # orjson cannot write the integer
                                     "payload": {"query": PROPOSE, "variables": {"input": WIDE}}}))
        refused = await ws.recv()
        await ws.subscribe("after", "{ viewer { organization { id } } }")
        after = await ws.recv()
    assert refused["type"] == "error" and refused["id"] == "wide", refused
    assert refused["payload"] == [{"message": "integers must fit in 64 bits",
                                   "extensions": {"code": "VALIDATION_ERROR"}}]
    assert after["type"] == "next" and after["id"] == "after", after
    async with tenant.client() as c:
        assert (await c.get("/api/v1/actions")).json() == []
