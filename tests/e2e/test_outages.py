"""Outages answer honestly: a request caught while PostgreSQL is down gets 503 SERVICE_UNAVAILABLE
with Retry-After (REST and GraphQL), never 500, and the same request works again once it is back;
while Redis is down the server keeps answering (it needs Redis for nothing a request must wait on).

Each test runs its own PostgreSQL cluster or Redis server on a free port, so stopping it disturbs
nothing else: `gatehouse serve` is a real process, and the services are really stopped and started.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from websockets.exceptions import ConnectionClosed

from models.events import Event
from tests.conftest import DATABASE_URL, Tenant, free_port
from tests.connectors.fakes.base import serving
from tests.graphql.ws import PENDING, Governance, GqlClient, gql_ws
from tests.mcp.conftest import MODERN, mcp_session, serve_upstream
from tests.processes import gatehouse_env, run_cli, running
from tests.workflows.helpers import create_workflow, execute
from tests.workflows.test_durability import Endpoints, http_step

PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"))), None)
PROPOSAL = {"type": "send_email", "actor": {"kind": "agent", "name": "outage-bot"}, "params": {"to": "a@b.c"}}
PROPOSE = ("mutation($input: ProposeActionInput!) { proposeAction(input: $input) { action { id status } } }")
LIST = "{ actions(first: 5) { edges { node { id } } } }"


class PrivatePostgres:
    """A throwaway cluster: initdb as the postgres user, started and stopped with pg_ctl."""

    def __init__(self, root: Path) -> None:
        self.root, self.port = root, free_port()
        self.data = root / "data"

    def _as_postgres(self, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        assert PG_BIN is not None
        shutil.chown(self.root, "postgres")
        self._as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-l",
                          str(self.root / "log"), "-w", "start")

    def stop(self) -> None:
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    if PG_BIN is None or shutil.which("runuser") is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
    with tempfile.TemporaryDirectory(prefix="gatehouse-pg-") as root:
        cluster = PrivatePostgres(Path(root))
        cluster.init()
        cluster.start()
        try:
            yield cluster
        finally:
            subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(cluster.data),
                            "-m", "immediate", "stop"], capture_output=True, timeout=60)


def _redis_server(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL)
    _wait_port(port)
    return proc


@contextmanager
def private_redis() -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    port = free_port()
    proc = _redis_server(port)
    try:
        yield port, proc
    finally:
        proc.kill()
        proc.wait()


@contextmanager
def redis_on(port: int) -> Iterator[None]:
    """Redis back on the same port (empty: it keeps nothing), for the rest of the block."""
    proc = _redis_server(port)
    try:
        yield
    finally:
        proc.kill()
        proc.wait()


def _wait_port(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


def _organization(env: dict[str, str]) -> str:
    migrated = run_cli("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    created = run_cli("create-org", "outages", "--json", env=env)
    assert created.returncode == 0, created.stderr
    return str(json.loads(created.stdout.strip().splitlines()[-1])["apiKey"])


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "1"


def test_postgres_down_answers_503_on_rest_and_graphql_then_recovers() -> None:
    with private_postgres() as pg:
        env = gatehouse_env(DATABASE_URL=pg.url, GATEHOUSE_INPROCESS_WORKERS="false")
        key = _organization(env)
        port = free_port()
        with (running("serve", "--host", "127.0.0.1", "--port", str(port), env=env, port=port),
              httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"},
                           timeout=30) as c):
            assert c.post("/actions", json=PROPOSAL).status_code == 201  # the key is now known (cached)
            pg.stop()
            rest = c.post("/actions", json=PROPOSAL)
            graphql = c.post("/graphql", json={"query": LIST})
            pg.start()
            again = None
            for _ in range(50):  # the pool reconnects on its own; the first tries may still find it gone
                again = c.post("/actions", json={**PROPOSAL, "params": {"to": "again@b.c"}})
                if again.status_code != 503:
                    break
                time.sleep(0.2)
            listed = c.post("/graphql", json={"query": LIST})
    _assert_unavailable(rest)
    assert rest.json()["error"] == "SERVICE_UNAVAILABLE" and "retry" in rest.json()["message"]
    _assert_unavailable(graphql)
    assert graphql.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert again is not None and again.status_code == 201, again.text
    assert len(listed.json()["data"]["actions"]["edges"]) == 2  # nothing half-written by the failed request


async def test_postgres_down_reads_as_service_unavailable_over_mcp(capfd: pytest.CaptureFixture[str]) -> None:
    """An agent over MCP gets the same honest answer: the tool's result reads SERVICE_UNAVAILABLE
    (the model sees that trying again will work), as do a resource read and a gateway call, not the
    SDK's generic "Error executing tool" and a crash in the server's log; once PostgreSQL is back
    the same call works."""
    arguments = {"type": "send_email", "params": {"to": "a@b.c"}}
    with private_postgres() as pg:
        env = gatehouse_env(DATABASE_URL=pg.url, GATEHOUSE_INPROCESS_WORKERS="false")
        key = _organization(env)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with running("serve", "--host", "127.0.0.1", "--port", str(port), env=env, port=port):
            async with (mcp_session(base + "/mcp", key, protocol=MODERN) as agent,
                        mcp_session(base + "/mcp/gateways/files", key, protocol=MODERN) as gateway):
                first = await agent.call_tool("propose_action", arguments)
                assert not first.is_error and first.structured_content is not None, first
                pg.stop()
                proposed = await agent.call_tool("propose_action", arguments)
                with pytest.raises(MCPError) as read:
                    await agent.read_resource(f"gatehouse://actions/{first.structured_content['action_id']}")
                forwarded = await gateway.call_tool("read_file", {"path": "/etc/hosts"})
                pg.start()
                again = None
                for _ in range(50):  # the pool reconnects on its own; the first tries may still find it gone
                    again = await agent.call_tool("propose_action", arguments)
                    if not again.is_error:
                        break
                    await asyncio.sleep(0.2)
    for answer in (proposed, forwarded):
        assert answer.is_error, answer
        assert "SERVICE_UNAVAILABLE: a backing service is unavailable; retry shortly" in answer.content[0].text  # type: ignore[union-attr]
    assert "SERVICE_UNAVAILABLE" in read.value.error.message, read.value.error
    assert again is not None and not again.is_error and again.structured_content is not None, again
    assert again.structured_content["status"] == "approved"
    logged = capfd.readouterr().err
    assert "backing service unavailable during an MCP call" in logged
    assert [line[:300] for line in logged.splitlines() if '"level": "error"' in line] == []  # no crash logged


async def _connect_when_back(url: str) -> asyncpg.Connection:
    for _ in range(100):
        try:
            return await asyncpg.connect(url)
        except (OSError, asyncpg.CannotConnectNowError):
            await asyncio.sleep(0.1)
    return await asyncpg.connect(url)


def upstream_that_stops(pg: PrivatePostgres) -> MCPServer:
    """An upstream whose tool stops Gatehouse's PostgreSQL as it acts, and starts it 1.5 s later:
    its answer arrives while the database is away."""
    server = MCPServer("restarts")

    @server.tool(structured_output=False)
    async def rotate_keys() -> str:
        """Rotate the keys (and restart the database, as it happens)."""
        await asyncio.to_thread(pg.stop)
        threading.Timer(1.5, pg.start).start()
        return "rotated"

    return server


async def _close_code(ws: GqlClient, within: float = 10) -> int | None:
    """Read until the server closes: the close code it sent (1006 when it sent none), None if it did not close."""
    with contextlib.suppress(TimeoutError):
        while True:
            try:
                await ws.recv(within)
            except ConnectionClosed:
                return ws.ws.close_code
    return None


async def test_postgres_down_closes_a_websocket_with_1013_not_a_dropped_connection(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """A WebSocket that needs PostgreSQL while it is away (a handshake, a subscribe that reads an id, a
    `since` replay) is closed with 1013 "try again later" and the reason REST gives its 503: the
    console reconnects and resumes. The handshake and the subscribe used to drop the connection without
    a close frame (1006, nothing logged), the replay to close it with 1011 "internal error" and an
    error in the log, as a bug would."""
    with private_postgres() as pg:
        env = gatehouse_env(DATABASE_URL=pg.url, GATEHOUSE_INPROCESS_WORKERS="false")
        key = _organization(env)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with running("serve", "--host", "127.0.0.1", "--port", str(port), env=env, port=port):
            async with httpx.AsyncClient(base_url=base, timeout=30, headers={"Authorization": f"Bearer {key}"}) as c:
                fresh = (await c.post("/api/v1/api-keys", json={"name": "fresh", "scopes": ["*:read"]})).json()["key"]
            async with gql_ws(base, key) as replaying, gql_ws(base, key) as following:
                await replaying.subscribe("live", PENDING)
                pg.stop()
                await replaying.subscribe("since", PENDING, {"since": "0"})
                await following.subscribe("one", 'subscription { actionUpdated(id: "act_x") { seq } }')
                async with gql_ws(base, init=False) as handshake:  # a key not cached yet: read from the table
                    await handshake.send({"type": "connection_init", "payload": {"apiKey": fresh}})
                    codes = [await _close_code(ws) for ws in (replaying, following, handshake)]
                reasons = [ws.ws.close_reason for ws in (replaying, following, handshake)]
                pg.start()
            for _ in range(50):  # the pool reconnects on its own
                async with gql_ws(base, init=False) as again:
                    answer = await again.init({"apiKey": fresh})
                if answer["type"] == "connection_ack":
                    break
                await asyncio.sleep(0.2)
    assert codes == [1013, 1013, 1013], codes
    assert reasons == ["a backing service is unavailable; retry shortly"] * 3, reasons
    assert answer["type"] == "connection_ack", answer
    logged = capfd.readouterr().err
    assert [line[:300] for line in logged.splitlines() if '"level": "error"' in line] == []


async def test_an_upstreams_answer_is_recorded_once_postgres_is_back(capfd: pytest.CaptureFixture[str]) -> None:
    """The upstream has acted by the time its answer comes back: a database away at that moment
    must not lose it. The gateway records it once PostgreSQL is back and the agent gets the answer
    (the record failed at once: the agent was told to retry a call already made, and the call stayed
    `calling` until it was failed as "unknown" 5 minutes later)."""
    with private_postgres() as pg:
        env = gatehouse_env(DATABASE_URL=pg.url, GATEHOUSE_INPROCESS_WORKERS="false",
                            GATEHOUSE_ALLOW_PRIVATE_TARGETS="true")
        key = _organization(env)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        async with serve_upstream(stateless=True, server=upstream_that_stops(pg)) as upstream:
            with running("serve", "--host", "127.0.0.1", "--port", str(port), env=env, port=port):
                async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {key}"}) as c:
                    registered = await c.post("/api/v1/mcp-servers", json={"name": "keys", "url": upstream.url})
                    assert registered.status_code == 201, registered.text
                    rules = {"name": "keys", "rules": [{"when": {"actionType": "mcp.keys.rotate_keys"},
                                                        "approval": "auto"}]}
                    assert (await c.post("/api/v1/policy", json=rules)).status_code == 201
                async with mcp_session(base + "/mcp/gateways/keys", key, protocol=MODERN) as gateway:
                    answer = await gateway.call_tool("rotate_keys", {})
        conn = await _connect_when_back(pg.url)
        try:
            calls = await conn.fetch("SELECT status, result FROM mcp_calls")
            events = await conn.fetchval("SELECT count(*) FROM events WHERE type = 'mcp.call_completed'")
        finally:
            await conn.close()
    assert not answer.is_error and answer.content[0].text == "rotated", answer  # type: ignore[union-attr]
    assert [row["status"] for row in calls] == ["completed"]
    assert json.loads(calls[0]["result"])["content"][0]["text"] == "rotated"
    assert events == 1
    logged = capfd.readouterr().err
    assert [line[:300] for line in logged.splitlines() if '"level": "error"' in line] == []


@asynccontextmanager
async def _served_with_worker(env: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    """`gatehouse serve` and `gatehouse worker` on `env`'s database, and a client of a new organization."""
    key = _organization(env)
    port = free_port()
    with (running("serve", "--host", "127.0.0.1", "--port", str(port), env=env, port=port),
          running("worker", env=env)):
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30,
                                     headers={"Authorization": f"Bearer {key}"}) as c:
            yield c


async def _waiting_on_a_slow_call(c: httpx.AsyncClient, endpoints: Endpoints, then_fast: bool = False) -> str:
    """An execution of a new workflow whose first step's call is under way (`/slow/wait`), its
    second one `/fast/after` if `then_fast`."""
    steps = [http_step("wait", endpoints.url("/slow/wait"), timeoutMs=60_000)]
    if then_fast:
        steps.append(http_step("after", endpoints.url("/fast/after")))
    execution_id = await execute(c, (await create_workflow(c, steps))["id"])
    for _ in range(200):
        if endpoints.calls("/slow/wait"):
            break
        await asyncio.sleep(0.05)
    return execution_id


async def test_a_running_execution_goes_on_through_a_postgres_restart(capfd: pytest.CaptureFixture[str]) -> None:
    """PostgreSQL restarted while an execution's step waits on a slow call: the runner's own poll
    fails meanwhile, and the execution goes on to complete, its step called once. (The poll's
    failure crashed the runner's job: every running execution was interrupted, its call hung up, and
    it waited out its 30 s lease to be taken over and its step called again.)"""
    endpoints = Endpoints(slow_seconds=4.0)
    with private_postgres() as pg:
        env = gatehouse_env(DATABASE_URL=pg.url, GATEHOUSE_INPROCESS_WORKERS="false",
                            GATEHOUSE_ALLOW_PRIVATE_TARGETS="true")
        async with serving(endpoints), _served_with_worker(env) as c:
            execution_id = await _waiting_on_a_slow_call(c, endpoints, then_fast=True)
            await asyncio.to_thread(pg.stop)
            await asyncio.sleep(1.5)  # three of the runner's polls
            await asyncio.to_thread(pg.start)
            status = None
            for _ in range(200):  # 20 s: well within the 30 s lease the old code waited out
                conn = await _connect_when_back(pg.url)
                try:
                    status = await conn.fetchval("SELECT status FROM executions WHERE id = $1",
                                                 execution_id)
                finally:
                    await conn.close()
                if status in ("completed", "failed", "cancelled"):
                    break
                await asyncio.sleep(0.1)
    assert status == "completed"
    assert len(endpoints.calls("/slow/wait")) == 1 and not endpoints.hung_up
    assert len(endpoints.calls("/fast/after")) == 1
    logged = capfd.readouterr().err
    assert [line[:300] for line in logged.splitlines() if '"level": "error"' in line] == []


async def test_a_cancel_while_redis_is_away_interrupts_the_running_call_at_once() -> None:
    """The cancel reaches the worker running the execution by PostgreSQL's NOTIFY, sent with the
    cancel's commit, so Redis being away does not matter: the slow call is hung up at once (it was
    hung up only at the lease's next renewal, up to 10 s later, the bus's message being dropped)."""
    endpoints = Endpoints(slow_seconds=30.0)
    with private_redis() as (redis_port, redis_proc):
        env = gatehouse_env(DATABASE_URL=DATABASE_URL, REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
                            GATEHOUSE_INPROCESS_WORKERS="false", GATEHOUSE_ALLOW_PRIVATE_TARGETS="true")
        async with serving(endpoints), _served_with_worker(env) as c:
            execution_id = await _waiting_on_a_slow_call(c, endpoints)
            redis_proc.kill()
            redis_proc.wait()
            cancelled = await c.post(f"/api/v1/executions/{execution_id}", json={"action": "cancel"})
            asked = time.monotonic()
            for _ in range(60):  # 3 s; a lease renewal comes every 10 s
                if endpoints.hung_up:
                    break
                await asyncio.sleep(0.05)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled", cancelled.text
    assert endpoints.hung_up and endpoints.hung_up[0] - asked < 1.5, (endpoints.hung_up, asked)


async def test_redis_down_degrades_to_this_process_and_never_500s(tenant: Tenant) -> None:
    """Redis carries the bus and the shared rate-limit counts, neither of which a proposal must
    wait for: without it the server counts in memory and the relay's poll replaces its wake. So
    proposals keep succeeding (no 503 at all, better than retrying), and come out as events."""
    with private_redis() as (redis_port, redis_proc):
        env = gatehouse_env(DATABASE_URL=DATABASE_URL, REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
                            GATEHOUSE_INPROCESS_WORKERS="false")
        port = free_port()
        with running("serve", "--host", "127.0.0.1", "--port", str(port), env=env, port=port):
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=tenant.headers,
                                         timeout=30) as c:
                assert (await c.post("/actions", json=PROPOSAL)).status_code == 201
                redis_proc.kill()
                redis_proc.wait()
                rest = await c.post("/actions", json=PROPOSAL)
                graphql = await c.post("/graphql", json={"query": PROPOSE, "variables": {"input": PROPOSAL}})
                with redis_on(redis_port):
                    after = await c.post("/actions", json=PROPOSAL)
    assert rest.status_code == 201, rest.text
    assert graphql.status_code == 200 and graphql.json()["data"]["proposeAction"]["action"]["status"] == "approved"
    assert after.status_code == 201, after.text
    stored = await Event.filter(organization_id=tenant.organization_id, type="action.approved").count()
    assert stored == 4  # every proposal's event is in the outbox, Redis or not


async def _backlog(url: str) -> tuple[int, int]:
    """Events not yet relayed, audit entries not yet sealed."""
    conn = await asyncpg.connect(url)
    try:
        unrelayed = await conn.fetchval("SELECT count(*) FROM events_unrelayed")
        unsealed = await conn.fetchval("SELECT count(*) FROM audit_entries WHERE position IS NULL")
        return int(unrelayed), int(unsealed)
    finally:
        await conn.close()


async def _kill_backends(url: str, seconds: float) -> int:
    """Terminate every other connection to the database every 100 ms for `seconds`; how many."""
    killed, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        conn = await asyncpg.connect(url)
        try:
            killed += await conn.fetchval("SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM "
                                          "pg_stat_activity WHERE datname = current_database() "
                                          "AND pid <> pg_backend_pid()) t")
        finally:
            await conn.close()
        await asyncio.sleep(0.05)
    return killed


async def test_connections_killed_under_load_answer_503_and_the_worker_recovers_by_itself() -> None:
    """PostgreSQL's backends terminated every 100 ms for 4 s while proposals arrive and the worker
    relays and seals: each proposal is answered 201 or 503, never 500, and once it stops, with
    nothing restarted, every event is relayed and every audit entry sealed. (A BEGIN that failed on
    a killed connection left its transaction as the task's current one: the relay, the sealer and
    expiry then failed on every restart until the worker was restarted; and the errors asyncpg
    raises on a connection closed under it were answered 500.)"""
    with private_postgres() as pg:
        env = gatehouse_env(DATABASE_URL=pg.url, GATEHOUSE_INPROCESS_WORKERS="false",
                            GATEHOUSE_DEFAULT_RATE_LIMIT="100000")
        async with _served_with_worker(env) as c:
            answers: list[int] = []

            async def propose(lane: int) -> None:
                for n in range(200):  # within the organization's monthly quota, spread over the 4 s
                    answers.append((await c.post("/actions", json={**PROPOSAL, "target": f"{lane}-{n}"}))
                                   .status_code)
                    if killing.done():
                        return
                    await asyncio.sleep(0.02)

            killing = asyncio.ensure_future(_kill_backends(pg.url, 6.0))
            await asyncio.gather(*(propose(lane) for lane in range(4)))
            killed = await killing
            backlog = await _backlog(pg.url)
            for _ in range(150):  # 30 s at most; the poll and the restart delay make it a few seconds
                if backlog == (0, 0):
                    break
                await asyncio.sleep(0.2)
                backlog = await _backlog(pg.url)
    assert killed > 20 and answers.count(201) > 20, (killed, answers.count(201))
    assert set(answers) <= {201, 503}, sorted(set(answers))
    assert backlog == (0, 0), backlog


async def test_events_published_while_redis_was_away_reach_live_subscribers(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Redis pub/sub keeps nothing: the relay's publish is dropped while Redis is away, and so is
    whatever a server's subscription misses. Positions have no gaps, so once the bus is back the
    server reads the missing ones back from the relay's log: a dashboard watching pendingApprovals
    gets every proposal made during the outage, in order, without resubscribing (it used to get
    none of them, and nothing told it to resume)."""
    with private_postgres() as pg, private_redis() as (redis_port, redis_proc):
        env = gatehouse_env(DATABASE_URL=pg.url, REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
                            GATEHOUSE_INPROCESS_WORKERS="false")
        key = _organization(env)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with (running("serve", "--host", "127.0.0.1", "--port", str(port), env=env, port=port),
              running("worker", env=env)):
            async with (httpx.AsyncClient(base_url=base, timeout=30, headers={"Authorization": f"Bearer {key}"}) as c,
                        gql_ws(base, key) as ws):
                governance = Governance(c)
                await governance.enforce()
                await ws.subscribe("1", PENDING)
                before = await governance.propose("send_email")
                heard = [await ws.next_data(15)]
                redis_proc.kill()
                redis_proc.wait()
                during = [await governance.propose("send_email") for _ in range(5)]
                for _ in range(100):  # relayed (and their publish dropped) within the relay's 1 s poll
                    if (await _backlog(pg.url))[0] == 0:
                        break
                    await asyncio.sleep(0.1)
                with redis_on(redis_port):
                    heard += [await ws.next_data(20) for _ in during]
    ids = [message["payload"]["data"]["pendingApprovals"]["action"]["id"] for message in heard]
    assert ids == [proposed["actionId"] for proposed in [before, *during]]
    dropped = [line for line in capfd.readouterr().err.splitlines() if "bus publish to" in line]
    assert len(dropped) <= 2, dropped  # one line an outage per process (serve, worker), not one a publish
