"""What each subscription receives when actions go through the REST API as a client drives them.

Every event here comes from REST (policy, proposals, approve/reject, evidence, the expiry worker),
except workflow events: no workflow API exists yet, so those few are written through the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import orjson
import pytest

from models.events import Event, RelayedEvent
from tests.conftest import Tenant
from tests.graphql.conftest import LocalApp
from tests.graphql.ws import PENDING, Emitter, Governance, GqlClient, gql_ws


async def _changes(ws: GqlClient, count: int) -> list[dict[str, Any]]:
    return [(await ws.next_data())["payload"]["data"]["pendingApprovals"] for _ in range(count)]


def _summary(changes: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(c["change"], c["action"]["id"]) for c in changes]


async def test_acceptance_propose_over_rest_under_enforce_policy_then_approve(server: str, tenant: Tenant) -> None:
    async with tenant.client() as c, gql_ws(server, tenant.key) as ws:
        assert (await c.post("/policy", json={"rules": [{"when": {"actionType": "send_email"}}]})).status_code == 201
        await ws.subscribe("1", PENDING)
        await asyncio.sleep(0.2)
        proposed = (await c.post("/actions", json={"type": "send_email", "actor": {"kind": "agent"},
                                                   "params": {"to": "a@b.c"}})).json()
        assert proposed["status"] == "pending_approval"
        created = (await ws.next_data())["payload"]["data"]["pendingApprovals"]
        assert created["change"] == "created"
        assert created["action"] == {"id": proposed["actionId"], "type": "send_email", "status": "pending_approval",
                                     "params": {"to": "a@b.c"}}
        assert created["approval"] == {"id": proposed["approvalId"], "actionId": proposed["actionId"],
                                       "status": "pending"}
        assert (await c.post(f"/approve/{proposed['actionId']}", json={})).status_code == 200
        approved = (await ws.next_data())["payload"]["data"]["pendingApprovals"]
        assert (approved["change"], approved["action"]["status"]) == ("approved", "approved")
        assert approved["approval"]["id"] == created["approval"]["id"] and approved["seq"] > created["seq"]


async def test_every_way_out_of_the_pending_set_arrives(server: str, tenant: Tenant) -> None:
    async with tenant.client() as c, gql_ws(server, tenant.key) as ws:
        gov = Governance(c)
        await gov.enforce()
        await ws.subscribe("1", PENDING)
        await asyncio.sleep(0.2)
        rejected, passed, failed = await gov.propose("send_email"), await gov.propose("deploy"), \
            await gov.propose("deploy")
        await gov.decide(rejected, "reject")
        await gov.evidence(passed, True)
        await gov.evidence(failed, False)
        await gov.propose("refund", "rejected")  # decided by policy at once: never in the pending set
        await gov.propose("other", "approved")
        expiring = await gov.propose("wire")
        got = _summary(await _changes(ws, 8))
        assert got == [("created", rejected["actionId"]), ("created", passed["actionId"]),
                       ("created", failed["actionId"]), ("rejected", rejected["actionId"]),
                       ("approved", passed["actionId"]), ("rejected", failed["actionId"]),
                       ("created", expiring["actionId"]), ("expired", expiring["actionId"])]
        with pytest.raises(TimeoutError):
            await ws.recv(within=0.5)


SPY_SUBSCRIPTIONS = {
    "pending": (PENDING, {}),
    "pending-since-0": (PENDING, {"since": "0"}),
    "pending-since-2000": (PENDING, {"since": "2000-01-01T00:00:00Z"}),
    "pending-fragment": ("subscription { ...F } fragment F on Subscription { pendingApprovals(since: \"0\") "
                         "{ seq action { id } } }", {}),
    "actions": ("subscription { actionUpdated { seq action { id status params } } }", {}),
    "action-of-a": ("subscription($id: ID) { actionUpdated(id: $id) { seq action { id } } }", None),
    "executions": ("subscription { executionUpdated { seq execution { id data } } }", {}),
    "execution-of-a": ('subscription { executionUpdated(id: "exec_a") { seq } }', {}),
    "events": ("subscription { events { seq event data } }", {}),
    "events-star": ('subscription { events(types: ["*"]) { seq data } }', {}),
    "events-globs": ('subscription { events(types: ["action.*", "workflow.*"]) { seq data } }', {}),
}
# What organization B's own pending proposal reaches: proof the spy's subscriptions were live.
REACHED_BY_B = {"pending", "pending-since-0", "pending-since-2000", "pending-fragment", "actions", "events",
                "events-star", "events-globs"}
# A's ids are not B's to follow: answered NOT_FOUND, as B's read of them (tests/graphql/test_subscriptions_targets.py).
REFUSED_FOR_B = {"action-of-a", "execution-of-a"}


async def _drive_organization_a(gov: Governance, emitter: Emitter, organization_id: str,
                                first: dict[str, Any]) -> list[str]:
    """Every path through governance for organization A, plus a workflow event; A's action ids."""
    await gov.decide(first, "approve")
    rejected, passed, failed = await gov.propose("send_email"), await gov.propose("deploy"), \
        await gov.propose("deploy")
    await gov.decide(rejected, "reject")
    await gov.evidence(passed, True)
    await gov.evidence(failed, False)
    decided_at_once = [await gov.propose("refund", "rejected"), await gov.propose("other", "approved")]
    expiring = await gov.propose("wire")
    await emitter.emit(organization_id, "workflow.started", {"executionId": "exec_a", "actionId": first["actionId"]})
    return [p["actionId"] for p in (first, rejected, passed, failed, *decided_at_once, expiring)]


async def _frames_until_quiet(ws: GqlClient, quiet: float = 1.0) -> list[dict[str, Any]]:
    frames = []
    while True:
        try:
            frames.append(await ws.recv(within=quiet))
        except TimeoutError:
            return frames


async def test_another_organization_receives_nothing_with_any_subscription_and_arguments(
    server: str, tenant: Tenant, other_tenant: Tenant, emitter: Emitter
) -> None:
    """Acceptance 3: B subscribes to everything, including A's own action id, and replays from 0."""
    async with tenant.client() as a, other_tenant.client() as b, gql_ws(server, tenant.key) as owner, \
            gql_ws(server, other_tenant.key) as spy:
        gov_a, gov_b = Governance(a), Governance(b)
        await gov_a.enforce()
        await gov_b.enforce()
        first = await gov_a.propose("send_email")  # already in the table when B replays from seq 0
        for op_id, (query, variables) in SPY_SUBSCRIPTIONS.items():
            await spy.subscribe(op_id, query, variables if variables is not None else {"id": first["actionId"]})
        await owner.subscribe("own", "subscription { events { event data } }")
        await asyncio.sleep(0.3)
        a_ids = await _drive_organization_a(gov_a, emitter, tenant.organization_id, first)
        seen_by_owner: set[str] = set()
        while not {"action.expired", "workflow.started"} <= seen_by_owner:  # A's last events have been routed
            seen_by_owner.add((await owner.next_data())["payload"]["data"]["events"]["event"])
        b_action = (await gov_b.propose("send_email"))["actionId"]
        frames = await _frames_until_quiet(spy)
    # A's action id and an unknown execution id are refused at subscribe, as the reads of them are
    # (the error names only the id B sent); everything else B received must hold nothing of A's.
    refused = {f["id"]: f["payload"][0]["extensions"]["code"] for f in frames if f["type"] == "error"}
    assert refused == dict.fromkeys(REFUSED_FOR_B, "NOT_FOUND"), refused
    frames = [f for f in frames if f["type"] != "error"]
    text = orjson.dumps(frames).decode()
    leaked = [i for i in (*a_ids, tenant.organization_id, "exec_a") if i in text]
    assert not leaked, f"organization B received {leaked}: {text[:2000]}"
    assert sorted(f["id"] for f in frames) == sorted(REACHED_BY_B), text[:2000]
    assert all(b_action in orjson.dumps(f).decode() for f in frames)


async def test_reconnecting_with_since_replays_what_was_missed(server: str, tenant: Tenant) -> None:
    """Acceptance 6: whatever happened over REST while the dashboard was away arrives, once, in order."""
    async with tenant.client() as c:
        gov = Governance(c)
        await gov.enforce()
        async with gql_ws(server, tenant.key) as ws:
            await ws.subscribe("1", PENDING)
            await asyncio.sleep(0.2)
            first = await gov.propose("send_email")
            last_seen = (await _changes(ws, 1))[0]["seq"]
        await gov.decide(first, "approve")
        rejected, passed = await gov.propose("send_email"), await gov.propose("deploy")
        await gov.decide(rejected, "reject")
        await gov.evidence(passed, True)
        await gov.propose("refund", "rejected")  # never pending: not replayed
        await gov.propose("other", "approved")
        async with gql_ws(server, tenant.key) as ws:
            await ws.subscribe("1", PENDING, {"since": str(last_seen)})
            replayed = await _changes(ws, 5)
            assert _summary(replayed) == [("approved", first["actionId"]), ("created", rejected["actionId"]),
                                          ("created", passed["actionId"]), ("rejected", rejected["actionId"]),
                                          ("approved", passed["actionId"])]
            assert [r["seq"] for r in replayed] == sorted(r["seq"] for r in replayed)
            live = await gov.propose("send_email")
            assert _summary(await _changes(ws, 1)) == [("created", live["actionId"])]
            with pytest.raises(TimeoutError):  # no duplicate of the replayed ones
                await ws.recv(within=0.5)


@pytest.mark.parametrize("since", ["yesterday", "99999999999999999999999999", "\u00b2"])
async def test_since_that_is_neither_a_seq_nor_a_timestamp_is_refused(server: str, tenant: Tenant, since: str) -> None:
    """A seq past a bigint used to close the socket with 1011 (the replay's query overflowed)."""
    async with gql_ws(server, tenant.key) as ws:
        await ws.subscribe("1", PENDING, {"since": since})
        error = await ws.recv()
        assert error["type"] == "error" and error["payload"][0]["extensions"]["code"] == "VALIDATION_ERROR"
        await ws.send({"type": "ping"})
        assert (await ws.recv())["type"] == "pong"  # the connection stays up


async def test_since_a_time_before_anything_was_relayed_replays_from_the_start(server: str, tenant: Tenant) -> None:
    """`since` at the first second of year 1: the replay's clock margin used to overflow (1011)."""
    async with tenant.client() as c:
        gov = Governance(c)
        await gov.enforce()
        proposed = await gov.propose("send_email")
        async with gql_ws(server, tenant.key) as ws:
            await ws.subscribe("1", PENDING, {"since": "0001-01-01T00:00:00Z"})
            assert _summary(await _changes(ws, 1)) == [("created", proposed["actionId"])]


async def test_complete_stops_a_replay_and_a_reused_id_carries_only_its_new_operation(
    tenant: Tenant, emitter: Emitter, local_app: LocalApp
) -> None:
    """A client completes a subscription while its `since` replay still runs, then reuses the id
    for another subscription: the replay stops (it used to run to its end, its frames arriving under
    the reused id as the new operation's data)."""
    async with tenant.client() as c:
        gov = Governance(c)
        await gov.enforce()
        proposed = await gov.propose("send_email")
    data = (await Event.get(organization_id=tenant.organization_id, type="action.pending_approval")).data
    data = {**data, "params": {"body": "x" * 100_000}}  # 60 MB in all: more than the sockets buffer
    total = 600
    for _ in range(total):
        await emitter.emit(tenant.organization_id, "action.pending_approval", data)
    for _ in range(300):  # relayed by the test server's workers
        if await RelayedEvent.filter(organization_id=tenant.organization_id).count() > total:
            break
        await asyncio.sleep(0.1)
    async with local_app(ws_send_queue_frames=20) as (base, _app), gql_ws(base, tenant.key, max_queue=4) as ws:
        await ws.subscribe("r", PENDING, {"since": "0"})  # a replay of 60 MB, then at once:
        await ws.send({"type": "complete", "id": "r"})
        await ws.subscribe("r", "subscription { events(types: [\"workflow.*\"]) { seq event } }")
        replayed = []
        with contextlib.suppress(TimeoutError):  # until the server has been silent for 3 s
            while message := await ws.recv(3):
                assert message["id"] == "r" and "pendingApprovals" in message["payload"]["data"], message
                replayed.append(message["payload"]["data"]["pendingApprovals"]["action"]["id"])
    assert replayed[:1] in ([], [proposed["actionId"]])
    assert len(replayed) < total, len(replayed)  # the replay stopped at the complete (it sent all 601)


async def test_since_past_the_last_event_is_refused_not_a_feed_that_drops_everything(
    server: str, tenant: Tenant
) -> None:
    """A seq no event has yet (a Unix time in ms taken for a seq, a seq kept across a database
    restore) was accepted and then dropped every live event below it: silent for good."""
    async with tenant.client() as c, gql_ws(server, tenant.key) as ws:
        gov = Governance(c)
        await gov.enforce()
        seen = (await gov.propose("send_email"))["actionId"]
        await ws.subscribe("epoch-ms", PENDING, {"since": "1733450000000"})
        error = await ws.recv()
        assert (error["type"], error["id"]) == ("error", "epoch-ms"), error
        assert error["payload"][0]["extensions"]["code"] == "VALIDATION_ERROR"
        assert "since" in error["payload"][0]["message"]
        # the last seq seen is still exact, and the connection stays up
        await ws.subscribe("resume", PENDING, {"since": "0"})
        replayed = (await ws.next_data())["payload"]["data"]["pendingApprovals"]
        assert replayed["action"]["id"] == seen
        live = await gov.propose("send_email")
        await ws.subscribe("last", PENDING, {"since": str(replayed["seq"])})
        got = [await ws.next_data() for _ in range(2)]
        assert sorted((g["id"], g["payload"]["data"]["pendingApprovals"]["action"]["id"]) for g in got) == \
            [("last", live["actionId"]), ("resume", live["actionId"])]
