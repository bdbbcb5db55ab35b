"""The schema as frontends and code generators see it: every type, field, argument and enum value
described; enums for the closed sets, spelled as the wire spells them; the Relay `Node` interface
with `node(id:)`, which answers through the same resolvers (scopes, tenancy) as each type's query."""

from __future__ import annotations

import typing
from enum import Enum
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    specified_directives,
    specified_scalar_types,
)
from graphql import build_schema as build_sdl_schema

from app.core.ids import new_id
from app.core.settings import load_settings
from app.errors import STATUS_BY_CODE
from models.connectors import CALL_STATUSES, CREDENTIAL_TYPES
from models.connectors import ConnectorCall as ConnectorCallRow
from models.organizations import PLANS
from models.webhooks import DELIVERY_STATUSES
from models.workflows import EXECUTION_STATUSES, STEP_STATUSES
from resolvers.access import KNOWN_SCOPES
from resolvers.errors import DomainError
from resolvers.governance import actions, engine, policies, rules
from resolvers.workflows.definition import STEP_TYPES
from schema import build_schema
from schema import enums as e
from tests.conftest import Tenant


@pytest.fixture(scope="module")
def graphql_schema() -> GraphQLSchema:
    return build_schema(load_settings())._schema


def undescribed(schema: GraphQLSchema) -> list[str]:
    """Every type, field, argument, input field, enum value and directive of ours without a description."""
    missing: list[str] = []
    for name, kind in sorted(schema.type_map.items()):
        if name.startswith("__") or name in specified_scalar_types:
            continue
        if not kind.description:
            missing.append(name)
        if isinstance(kind, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in kind.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                missing += [f"{name}.{field_name}({arg})" for arg, a in field.args.items() if not a.description]
        elif isinstance(kind, GraphQLInputObjectType):
            missing += [f"{name}.{field_name}" for field_name, f in kind.fields.items() if not f.description]
        elif isinstance(kind, GraphQLEnumType):
            missing += [f"{name}.{value}" for value, v in kind.values.items() if not v.description]
    for directive in schema.directives:
        if directive not in specified_directives:
            if not directive.description:
                missing.append(f"@{directive.name}")
            missing += [f"@{directive.name}({a})" for a, arg in directive.args.items() if not arg.description]
    return missing


def test_everything_is_described(graphql_schema: GraphQLSchema) -> None:
    assert undescribed(graphql_schema) == []


def test_the_description_check_finds_what_lacks_one() -> None:
    sdl = '''
        """A query."""
        type Query { "Described." a(x: Int): Thing  b: Int }
        type Thing { "Described." id: ID! }
        enum Colour { "Red." RED BLUE }
        input In { "Described." x: Int  y: Int }
        """Used."""
        type Extra { "Described." c(i: In, k: Colour): Int }
    '''
    assert sorted(undescribed(build_sdl_schema(sdl))) == [
        "Colour", "Colour.BLUE", "Extra.c(i)", "Extra.c(k)", "In", "In.y", "Query.a(x)", "Query.b", "Thing",
    ]


def _values(enum: type[Enum]) -> set[str]:
    return {str(member.value) for member in enum}


@pytest.mark.parametrize(("enum", "wire"), [
    (e.ActionStatus, actions.STATUSES),
    (e.ApprovalMode, rules.APPROVALS),
    (e.CheckStatus, typing.get_args(engine.CheckStatus)),
    (e.PolicyMode, rules.MODES),
    (e.PolicyStatus, policies.STATUSES),
    (e.DeliveryStatus, DELIVERY_STATUSES),
    (e.ExecutionStatus, EXECUTION_STATUSES),
    (e.StepStatus, STEP_STATUSES),
    (e.StepType, STEP_TYPES),
    (e.ConnectorCallStatus, CALL_STATUSES),
    (e.CredentialType, CREDENTIAL_TYPES),
    (e.Plan, PLANS),
    (e.Scope, KNOWN_SCOPES),
    (e.ErrorCode, STATUS_BY_CODE),
])
def test_enums_list_exactly_the_closed_sets(enum: type[Enum], wire: Any) -> None:
    assert _values(enum) == set(wire)


def test_enum_values_are_named_as_the_wire_spells_them(graphql_schema: GraphQLSchema) -> None:
    """GraphQL sends an enum value's name: it must be today's string, so String fields that became
    enums answer exactly what they answered before (and what REST answers)."""
    for enum in (e.ActionStatus, e.ApprovalStatus, e.ApprovalMode, e.CheckStatus, e.PolicyMode, e.PolicyStatus,
                 e.HistoryKind, e.PendingChange, e.DeliveryStatus, e.ExecutionStatus, e.StepStatus, e.StepType,
                 e.ConnectorCallStatus, e.CredentialType, e.Plan, e.ErrorCode):
        kind = graphql_schema.type_map[enum.__name__]
        assert isinstance(kind, GraphQLEnumType)
        assert all(name == member.value for name, member in zip(kind.values, enum, strict=True)), enum
    scope = graphql_schema.type_map["Scope"]
    assert isinstance(scope, GraphQLEnumType)
    assert {name: v.value for name, v in scope.values.items()}["actions_write"] == "actions:write"


def test_every_domain_error_code_is_an_error_code() -> None:
    def subclasses(cls: type[DomainError]) -> list[type[DomainError]]:
        return [cls, *(s for sub in cls.__subclasses__() for s in subclasses(sub))]

    codes = {cls.code for cls in subclasses(DomainError)}
    assert codes <= _values(e.ErrorCode)


# Object types whose ids are someone else's (an event's snapshot of an action) or an event's.
NOT_NODES = {"ActionSnapshot", "ApprovalSnapshot", "ExecutionSnapshot", "LiveEvent"}


def test_objects_with_an_id_are_nodes(graphql_schema: GraphQLSchema) -> None:
    node = graphql_schema.type_map["Node"]
    assert isinstance(node, GraphQLInterfaceType)
    with_id = {name for name, kind in graphql_schema.type_map.items()
               if isinstance(kind, GraphQLObjectType) and "id" in kind.fields and not name.startswith("__")}
    nodes = {kind.name for kind in graphql_schema.get_implementations(node).objects}
    assert nodes == with_id - NOT_NODES
    assert {"Action", "Approval", "Policy", "ApiKey", "Organization", "Webhook", "WebhookDelivery", "Credential",
            "Connector", "ConnectorCall", "Workflow", "Execution", "HistoryEntry", "Agent",
            "Notification", "ReviewerGroup", "McpServer", "AuditEntry"} == nodes
    for name in nodes:
        id_type = graphql_schema.type_map[name].fields["id"].type  # type: ignore[union-attr]
        assert isinstance(id_type, GraphQLNonNull) and str(id_type.of_type) == "ID"
    query = graphql_schema.query_type
    assert query is not None and str(query.fields["node"].type) == "Node"
    assert str(query.fields["node"].args["id"].type) == "ID!"


# --- over HTTP ----------------------------------------------------------------------------------

SETUP = """mutation($hook: CreateWebhookInput!, $cred: CreateCredentialInput!, $wf: CreateWorkflowInput!) {
  policy: createPolicy(input: {rules: [{when: {actionType: "send_email"}, require: ["review"]}]}) { id }
  key: createApiKey(input: {name: "reader", scopes: ["actions:read"]}) { secret apiKey { id } }
  webhook: createWebhook(input: $hook) { webhook { id } }
  credential: createCredential(input: $cred) { id }
  connector: createConnector(input: {name: "web", type: "http"}) { id }
  workflow: createWorkflow(input: $wf) { id }
  group: createReviewerGroup(input: {name: "ops"}) { id }
}"""
SETUP_VARIABLES = {
    "hook": {"name": "h", "url": "http://127.0.0.1:9/hook", "events": ["webhook.*"]},
    "cred": {"name": "slack", "type": "oauth", "provider": "slack", "data": {"bot_token": "xoxb-1"}},
    "wf": {"name": "wf", "definition": {"steps": [{"name": "wait", "type": "delay", "config": {"seconds": 0}}]}},
}
SECOND = """mutation($webhook: ID!, $workflow: ID!) {
  proposed: proposeAction(input: {type: "send_email", actor: {kind: "agent"}}) {
    action { id approvalId history { id } } }
  delivery: testWebhook(id: $webhook) { id }
  execution: executeWorkflow(id: $workflow) { id }
}"""


async def _objects(tenant: Tenant) -> tuple[dict[str, str], str]:
    """One object of every Node type in `tenant`'s organization: type name -> id; and a reader key."""
    first = await tenant.graphql(SETUP, SETUP_VARIABLES)
    assert "errors" not in first, first
    data = first["data"]
    second = await tenant.graphql(SECOND, {"webhook": data["webhook"]["webhook"]["id"],
                                           "workflow": data["workflow"]["id"]})
    assert "errors" not in second, second
    action = second["data"]["proposed"]["action"]
    call = await ConnectorCallRow.create(id=new_id("call"), organization_id=tenant.organization_id,
                                         connector_id=data["connector"]["id"], action="request", status="failed",
                                         duration_ms=3, provider_status=503, error="unavailable")
    ids = {
        "Action": action["id"], "Approval": action["approvalId"], "HistoryEntry": action["history"][0]["id"],
        "Policy": data["policy"]["id"], "ApiKey": data["key"]["apiKey"]["id"], "Organization": tenant.organization_id,
        "Webhook": data["webhook"]["webhook"]["id"], "WebhookDelivery": second["data"]["delivery"]["id"],
        "Credential": data["credential"]["id"], "Connector": data["connector"]["id"], "ConnectorCall": call.id,
        "Workflow": data["workflow"]["id"], "Execution": second["data"]["execution"]["id"],
        "ReviewerGroup": data["group"]["id"],
    }
    return ids, data["key"]["secret"]


# Per type: the fields compared, and the type's own way to the same object (`$id` is its id).
OWN = {
    "Action": ("id status type approvalMode actor { kind }", "action(id: $id)"),
    "Approval": ("id status", "approval(id: $id)"),
    "Policy": ("id name mode status version", "policy(id: $id)"),
    "ApiKey": ("id name scopes", "apiKey(id: $id)"),
    "Webhook": ("id name url events", "webhook(id: $id)"),
    "Credential": ("id name type provider fields", "credential(id: $id)"),
    "Connector": ("id name type", "connector(id: $id)"),
    "Workflow": ("id name version", "workflow(id: $id)"),
    "Execution": ("id workflowId", "execution(id: $id)"),
    "ReviewerGroup": ("id name members", "reviewerGroup(id: $id)"),
}


async def test_node_answers_every_type_as_its_own_query_does(tenant: Tenant) -> None:
    ids, _ = await _objects(tenant)
    for name, (fields, own) in OWN.items():
        query = (f"query($id: ID!) {{ node(id: $id) {{ __typename ... on {name} {{ {fields} }} }} "
                 f"own: {own} {{ {fields} }} }}")
        result = await tenant.graphql(query, {"id": ids[name]})
        assert "errors" not in result, (name, result)
        node = result["data"]["node"]
        assert node.pop("__typename") == name and node == result["data"]["own"] and node["id"] == ids[name]

    others = """query($org: ID!, $hist: ID!, $dlv: ID!, $call: ID!, $action: ID!, $webhook: ID!, $connector: ID!) {
      org: node(id: $org) { __typename ... on Organization { id name plan } }
      viewer { organization { id name plan } }
      hist: node(id: $hist) { __typename ... on HistoryEntry { id kind status } }
      action(id: $action) { history { id kind status } }
      dlv: node(id: $dlv) { __typename ... on WebhookDelivery { id webhookId event status } }
      webhookDeliveries(webhookId: $webhook) { edges { node { id webhookId event status } } }
      call: node(id: $call) { __typename ... on ConnectorCall { id connectorId action status providerStatus } }
      connectorCalls(connectorId: $connector) { edges { node { id connectorId action status providerStatus } } }
    }"""
    variables = {"org": ids["Organization"], "hist": ids["HistoryEntry"], "dlv": ids["WebhookDelivery"],
                 "call": ids["ConnectorCall"], "action": ids["Action"], "webhook": ids["Webhook"],
                 "connector": ids["Connector"]}
    result = await tenant.graphql(others, variables)
    assert "errors" not in result, result
    data = result["data"]
    assert {k: data[k].pop("__typename") for k in ("org", "hist", "dlv", "call")} == {
        "org": "Organization", "hist": "HistoryEntry", "dlv": "WebhookDelivery", "call": "ConnectorCall"}
    organization = {"id": tenant.organization_id, "name": "acme", "plan": "pro"}
    assert data["org"] == data["viewer"]["organization"] == organization
    assert data["hist"] == data["action"]["history"][0] == {"id": ids["HistoryEntry"], "kind": "proposed",
                                                            "status": "pending_approval"}
    assert [data["dlv"]] == [edge["node"] for edge in data["webhookDeliveries"]["edges"]]
    assert data["call"] == data["connectorCalls"]["edges"][0]["node"]
    assert data["call"]["status"] == "failed"


async def test_node_keeps_tenancy_scopes_and_unknown_ids_out(tenant: Tenant, other_tenant: Tenant) -> None:
    ids, reader = await _objects(tenant)
    aliases = {f"n{i}": object_id for i, object_id in enumerate(ids.values())}
    query = ("query(" + ", ".join(f"${a}: ID!" for a in aliases) + ") { "
             + " ".join(f"{a}: node(id: ${a}) {{ id }}" for a in aliases) + " }")
    foreign = await other_tenant.graphql(query, aliases)
    assert foreign["data"] == dict.fromkeys(aliases)
    assert sorted(err["path"][0] for err in foreign["errors"]) == sorted(aliases)
    assert {err["extensions"]["code"] for err in foreign["errors"]} == {"NOT_FOUND"}

    unknown = await tenant.graphql('{ a: node(id: "zz_1") { id } b: node(id: "nounderscore") { id } '
                                   'c: node(id: "evt_1") { id } d: node(id: "act_missing") { id } '
                                   'e: node(id: "act_' + "x" * 100 + '") { id } }')
    assert unknown["data"] == dict.fromkeys("abcde")
    assert [err["extensions"]["code"] for err in unknown["errors"]] == ["NOT_FOUND"] * 5

    as_reader = Tenant(tenant.organization_id, reader, tenant.base_url)  # scopes: actions:read only
    limited = await as_reader.graphql(
        "query($a: ID!, $p: ID!) { a: node(id: $a) { id } p: node(id: $p) { id } }",
        {"a": ids["Action"], "p": ids["Policy"]},
    )
    assert limited["data"] == {"a": {"id": ids["Action"]}, "p": None}
    assert [(err["path"], err["extensions"]["code"]) for err in limited["errors"]] == [(["p"], "FORBIDDEN")]


async def test_enums_answer_the_strings_rest_answers(tenant: Tenant) -> None:
    async with tenant.client() as c:
        assert (await c.post("/policy", json={"rules": [{"when": {"actionType": "deploy"}, "require": ["ci"],
                                                         "approval": "auto"}]})).status_code == 201
        rest = (await c.post("/actions", json={"type": "deploy", "actor": {"kind": "agent"}})).json()
    result = await tenant.graphql(
        "query($id: ID!) { action(id: $id) { status approvalMode decision { status checks { name status } } } "
        'policies(status: "active") { edges { node { mode status } } } errorCodes knownScopes { scope value } }',
        {"id": rest["actionId"]},
    )
    assert "errors" not in result, result
    data = result["data"]
    assert data["action"] == {"status": "pending_approval", "approvalMode": "auto",
                              "decision": {"status": rest["decision"]["status"],
                                           "checks": [{"name": "ci", "status": "pending"}]}}
    assert rest["status"] == "pending_approval"
    assert data["policies"]["edges"] == [{"node": {"mode": "enforce", "status": "active"}}]
    assert sorted(data["errorCodes"]) == sorted(STATUS_BY_CODE)
    assert {s["value"] for s in data["knownScopes"]} == KNOWN_SCOPES
    assert {"scope": "all_read", "value": "*:read"} in data["knownScopes"]
