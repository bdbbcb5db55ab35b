"""Gatehouse-side measurements, kept apart from the baselines so they can be wired as Gatehouse lands.

Everything Gatehouse-specific is here: how to start `gatehouse serve` / `gatehouse worker`, how an
organization and key are made (`gatehouse create-org NAME --plan enterprise --json`), the setup each
figure needs over the documented REST contract (`POST /policy`, `POST /api/v1/webhooks`,
`POST /actions`, `POST /api/v1/workflows` and its `execute`), and the GraphQL documents the figures
send. Assumptions that the schema has not confirmed yet are module constants marked UNCONFIRMED; a
figure whose code cannot run yet raises NotWired and the table says so instead of guessing a number.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.core.crypto import generate_key
from bench import backtest_timing, database, measure, profile, sysstat
from bench.budget import Budget
from bench.fleet import DEFAULT_PROPOSAL, DEFAULT_QUERY
from bench.httpclient import Pool, Target, encode_request
from bench.load import path_of
from bench.procs import PYTHON, REPO_DIR, Service, free_port, run_json, uvicorn_cmd

# BENCH_DATABASE_URL / BENCH_REDIS_URL let runs that share a machine keep apart (a run drops and
# recreates its database; the name must start with gatehouse_bench).
DEFAULT_ENV = {
    "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gatehouse_bench"),
    "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/2"),
    "GATEHOUSE_ALLOW_PRIVATE_TARGETS": "1",
    "GATEHOUSE_INPROCESS_WORKERS": "false",  # production: relay and delivery run in `gatehouse worker`
    "GATEHOUSE_ENCRYPTION_KEYS": f"bench:{generate_key()}",  # production mode refuses to start without one
}
HEALTH_PATH = "/healthz"
SERVE_ARGS = ["serve", "--host", "127.0.0.1", "--port", "{port}"]
# Keys default to 100 requests/minute; the bench key gets the maximum so the limiter (still on the
# hot path, counted in Redis) never answers 429 during a load run.
BENCH_KEY_RATE_LIMIT = 1_000_000
WORKER_ARGS = ["worker"]
PROFILED_BACKLOG = 3  # figure 6's backlog times this, so the worker is sampled for a few seconds
# The GraphQL documents, checked against the schema (schema/governance, schema/realtime): the same
# fields the baselines answer (id, status, policy ids, decision with its checks).
PROPOSE_MUTATION = (
    "mutation Propose($input: ProposeActionInput!) { proposeAction(input: $input) "
    "{ action { id status policyIds decision { status checks { name status note } } } } }"
)
LIST_ACTIONS_QUERY = (
    "query { actions(first: 50) { edges { node { id type status "
    "decision { status checks { name status note } } } } pageInfo { hasNextPage endCursor } } }"
)
PENDING_SUBSCRIPTION = DEFAULT_QUERY  # PendingApprovalChange { event approval { id status } action { id type status } }
# Figure 5's proposals use their own action type, so its enforce policy can never make another
# figure's proposals pending even when all figures share one organization (--api-key).
PENDING_TYPE = "bench_pending_review"
DASHBOARD_ORGS = 4  # figure 12's organizations (bench.dashboards.ORG_SHARES sizes them)
PENDING_PROPOSAL = {**DEFAULT_PROPOSAL, "type": PENDING_TYPE}
WORKFLOWS_PATH = "/api/v1/workflows"
# Figure 8: propose_action over MCP as one JSON-RPC POST (the stateless server needs no session), the
# same proposal as figure 1's body; and the gateway in front of bench/baselines/mcp_upstream.py.
MCP_ARGUMENTS = {key: DEFAULT_PROPOSAL.get(key) for key in ("type", "target", "params")}
# The current protocol revision (2026-07-28), as the SDK's `mcp.client.Client` speaks it to this server by
# default: one self-contained POST per call, its version and capabilities in `_meta`, routing headers.
MCP_VERSION = "2026-07-28"
MCP_HEADERS = {"accept": "application/json, text/event-stream", "mcp-protocol-version": MCP_VERSION,
               "mcp-method": "tools/call", "mcp-name": "propose_action"}
MCP_PROPOSE = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
               "params": {"name": "propose_action", "arguments": MCP_ARGUMENTS,
                          "_meta": {"io.modelcontextprotocol/protocolVersion": MCP_VERSION,
                                    "io.modelcontextprotocol/clientCapabilities": {}}}}
# The handshake-era revision (2025-06-18) over stateless Streamable HTTP, as older clients send it.
MCP_LEGACY_HEADERS = {"accept": "application/json, text/event-stream", "mcp-protocol-version": "2025-06-18"}
MCP_LEGACY_PROPOSE = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                      "params": {"name": "propose_action", "arguments": MCP_ARGUMENTS}}
MCP_UPSTREAM_APP = "bench.baselines.mcp_upstream:app"


class NotWired(RuntimeError):
    """The Gatehouse side of this figure cannot be measured yet (the feature has not landed)."""


def gatehouse_cli() -> list[str]:
    """The installed console script, or the module when the package is not installed."""
    script = Path(PYTHON).with_name("gatehouse")
    return [str(script)] if script.exists() else [PYTHON, "-m", "app.cli"]


@dataclass
class GatehouseConfig:
    """How to reach Gatehouse: a running server (base_url, api_key) or commands to start one."""

    base_url: str | None = None
    api_key: str | None = None  # an existing key: figures 1-3 and 5 use its organization (with 100 new policies)
    cli: list[str] = field(default_factory=gatehouse_cli)
    serve_cmd: list[str] = field(default_factory=lambda: [*gatehouse_cli(), *SERVE_ARGS])
    worker_cmd: list[str] = field(default_factory=lambda: [*gatehouse_cli(), *WORKER_ARGS])
    env: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_ENV))

    def process_env(self) -> dict[str, str]:
        return {**os.environ, **self.env}


@dataclass(frozen=True)
class Org:
    organization_id: str
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.api_key}"}


def _cli_json(config: GatehouseConfig, *args: str) -> dict[str, Any]:
    cmd = [*config.cli, *args, "--json"]
    out = subprocess.run(cmd, cwd=REPO_DIR, env=config.process_env(), capture_output=True, timeout=60, check=True)
    return dict(json.loads(out.stdout.decode().strip().splitlines()[-1]))


def create_org(config: GatehouseConfig, name: str) -> Org:
    """A fresh enterprise organization (no quota) and an admin key with the highest rate limit."""
    org_id = str(_cli_json(config, "create-org", name, "--plan", "enterprise")["organizationId"])
    key = _cli_json(
        config,
        "create-key",
        "--org",
        org_id,
        "--name",
        "bench",
        "--scopes",
        "admin",
        "--rate-limit",
        str(BENCH_KEY_RATE_LIMIT),
    )
    return Org(org_id, str(key["apiKey"]))


def engine_decisions(budget: Budget) -> dict[str, Any]:
    """Figure 4 in a child process (the engine is pure: no server, no database)."""
    try:
        import resolvers.governance.engine  # noqa: F401
    except ImportError as exc:
        raise NotWired(f"policy engine not importable: {exc}") from exc
    cmd = [PYTHON, "-m", "bench.engine_timing", "--seconds", str(budget.engine_seconds)]
    return run_json(cmd, budget.step_timeout)


def post_json(url: str, org: Org, body: dict[str, Any]) -> dict[str, Any]:
    """One setup call; raises on any non-2xx answer so a broken setup never yields a figure."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"content-type": "application/json", **org.headers},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return dict(json.loads(response.read()))


def create_policies(base_url: str, org: Org, count: int, matching_type: str | None = None) -> list[str]:
    """`count` active enforce policies. With no `matching_type` none matches the bench proposal, so
    every proposal is evaluated against all of them and is approved, like the baseline's answer."""
    ids = []
    for number in range(count):
        action_type = matching_type or f"bench_unmatched_{number}"
        policy = {
            "name": f"bench policy {number}",
            "description": "bench",
            "mode": "enforce",
            "status": "active",
            "rules": [{"when": {"actionType": action_type}, "require": [], "approval": "manual"}],
        }
        ids.append(str(post_json(base_url + "/policy", org, policy).get("id", "")))
    return ids


def create_webhook(base_url: str, org: Org, url: str) -> dict[str, Any]:
    """A webhook for every action event; the answer carries the signing secret (shown once)."""
    body = {"name": "bench receiver", "url": url, "events": ["action.*"]}
    return post_json(base_url + "/api/v1/webhooks", org, body)


async def _post_many(url: str, org: Org, bodies: list[dict[str, Any]], answer: str, concurrency: int) -> list[str]:
    """POST every body on `concurrency` kept-alive connections; the `answer` field of each answer."""
    target = Target.from_url(url)
    headers = {"content-type": "application/json", **org.headers}
    raws = iter([encode_request(target, "POST", path_of(url), headers, json.dumps(body).encode()) for body in bodies])
    pool, ids = Pool(target), []

    async def lane() -> None:
        for raw in raws:
            ids.append(await _answer_of(pool, raw, answer))

    await asyncio.gather(*(lane() for _ in range(concurrency)))
    pool.close()
    return ids


SETUP_RETRIES = 5  # a setup request answered 429 or 503 is sent again after its Retry-After


async def _answer_of(pool: Pool, raw: bytes, answer: str) -> str:
    """The `answer` field of a setup request's 2xx answer, retrying a 429 or 503 (a backlog or an
    outage is not what the figures measure); any other answer fails the step, saying what it was."""
    for _ in range(SETUP_RETRIES):
        response = await pool.send(raw)
        if 200 <= response.status < 300:
            return str(json.loads(response.body)[answer])
        if response.status not in (429, 503):
            break
        await asyncio.sleep(min(5.0, float(response.headers.get(b"retry-after", b"1") or 1)))
    raise RuntimeError(f"setup request answered {response.status}: {response.body[:300]!r}")


def propose_many(base_url: str, org: Org, count: int, concurrency: int = 16) -> list[str]:
    """Create `count` actions quickly (setup for reads and for the webhook backlog)."""
    return asyncio.run(_post_many(base_url + "/actions", org, [DEFAULT_PROPOSAL] * count, "actionId", concurrency))


def one_step_workflow(call_url: str) -> dict[str, Any]:
    """Figure 7's workflow: one `http_request` step POSTing the execution's input number to `call_url`."""
    config = {"method": "POST", "url": call_url, "body": {"n": "{{ input.n }}"}}
    step = {"name": "call", "type": "http_request", "config": config}
    return {"name": "bench one step", "definition": {"steps": [step]}}


def execute_many(base_url: str, org: Org, workflow_id: str, count: int, concurrency: int = 32) -> list[str]:
    """Queue `count` executions through the API (setup for figure 7's backlog); their ids."""
    url = f"{base_url}{WORKFLOWS_PATH}/{workflow_id}/execute"
    bodies = [{"input": {"n": number}} for number in range(count)]
    return asyncio.run(_post_many(url, org, bodies, "executionId", concurrency))


@dataclass(frozen=True)
class Flows:
    """Figure 7's organization, its one-step workflow and the receiver the step calls."""

    org: Org
    workflow_id: str
    receiver: Service

    @property
    def call_url(self) -> str:
        return self.receiver.url + "/hook"


class GatehouseSide:
    """Owns the Gatehouse processes and organizations of one harness run; one method per figure.

    Figures 1-3 and 5 share one organization holding exactly 100 active policies: 99 for unrelated
    action types (every proposal is evaluated against them and matches none, so its answer is the
    baseline's) and 1 that sends figure 5's own action type to manual approval. Figure 6 has its
    own organization, because its webhook would otherwise deliver every other figure's events, and
    so has figure 7 (its workflow events go to no other figure's webhook).
    """

    def __init__(self, config: GatehouseConfig, budget: Budget) -> None:
        self.config, self.budget = config, budget
        self.server: Service | None = None
        self.hook_receiver: Service | None = None
        self.worker: Service | None = None
        self._shared: Org | None = None
        self._hooks: Org | None = None
        self._flows: Flows | None = None
        self.read_paths: str | None = None
        self.mcp_upstream: Service | None = None
        self._mcp_org: Org | None = None
        self._mcp_rounds = 0
        self._backtests: tuple[Org, str] | None = None
        self._backtest_rounds = 0
        self._dashboards: list[Org] | None = None

    def _serve(self, name: str) -> Service:
        port = free_port()
        cmd = [part.replace("{port}", str(port)) for part in self.config.serve_cmd]
        return Service(name, cmd, port, HEALTH_PATH, self.config.env).start()

    def start(self) -> None:
        """Migrate and start `gatehouse serve`, unless a running server was given."""
        if self.config.base_url is None:
            database_url = self.config.env["DATABASE_URL"]
            if database_url.rsplit("/", 1)[-1].startswith("gatehouse_bench"):
                database.recreate(database_url)
            subprocess.run(
                [*self.config.cli, "migrate"],
                cwd=REPO_DIR,
                env=self.config.process_env(),
                capture_output=True,
                timeout=120,
                check=True,
            )
            self.server = self._serve("gatehouse-serve")
            self.config.base_url = self.server.url

    def stop(self) -> None:
        flow_receiver = None if self._flows is None else self._flows.receiver
        for service in (self.worker, self.hook_receiver, flow_receiver, self.mcp_upstream, self.server):
            if service is not None:
                service.stop()

    def start_worker(self, env: dict[str, str] | None = None) -> Service:
        """`gatehouse worker` (relay, webhook delivery, expiry, workflow runner), as production runs
        it beside serve; `env` adds settings (a running worker is kept as it is)."""
        if self.worker is None or self.worker.process is None or self.worker.process.poll() is not None:
            env = {**self.config.env, **(env or {})}
            self.worker = Service("gatehouse-worker", self.config.worker_cmd, env=env).start()
        return self.worker

    def stop_worker(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.worker = None

    def drained_worker(self) -> Service:
        """A running worker that has done the work the other figures left: their events relayed (in
        seq order, so a figure's own events would otherwise queue behind thousands of earlier ones)
        and their audit entries sealed (a worker stopped during figures 1-2 starts with some 25,000
        to chain, which took its CPU during figure 6's burst)."""
        worker = self.start_worker()
        left = database.wait_drained(self.config.env["DATABASE_URL"], self.budget.step_timeout)
        if left:
            raise RuntimeError(f"the worker left {left} events unrelayed or audit entries unsealed")
        return worker

    @property
    def pid(self) -> int | None:
        """The server's pid when the harness started it (for its CPU and memory), else None."""
        return None if self.server is None else self.server.pid

    @property
    def base_url(self) -> str:
        assert self.config.base_url is not None, "start() first"
        return self.config.base_url

    def shared_org(self) -> Org:
        """The organization of figures 1-3 and 5 (a given --api-key's, or a new one), set up once."""
        if self._shared is None:
            if self.config.api_key:
                org = Org("(given key)", self.config.api_key)
            else:
                org = create_org(self.config, f"bench-{time.time_ns()}")
            create_policies(self.base_url, org, 99)
            create_policies(self.base_url, org, 1, matching_type=PENDING_TYPE)
            self._shared = org
        return self._shared

    def rest_propose(self) -> dict[str, Any]:
        """Figure 1: POST /actions in an organization with 100 active policies."""
        return self._rest_propose(self.budget)

    def _rest_propose(self, budget: Budget) -> dict[str, Any]:
        org, body = self.shared_org(), json.dumps(DEFAULT_PROPOSAL)
        return measure.http_load(self.base_url + "/actions", budget, "POST", body, org.headers, server_pid=self.pid)

    def graphql_propose(self, budget: Budget | None = None) -> dict[str, Any]:
        """Figure 2: the proposeAction mutation, same organization as figure 1."""
        variables = json.dumps({"input": DEFAULT_PROPOSAL})
        url = self.base_url + "/graphql"
        return measure.graphql_load(
            url, budget or self.budget, PROPOSE_MUTATION, variables, self.shared_org().headers, self.pid
        )

    def _read_paths(self) -> str:
        """A file of GET paths for `read_actions` actions of the shared organization (made once)."""
        if self.read_paths is None:
            ids = propose_many(self.base_url, self.shared_org(), self.budget.read_actions)
            with tempfile.NamedTemporaryFile("w", suffix=".paths", delete=False) as handle:
                handle.write("\n".join(f"/actions/{i}" for i in ids))
            self.read_paths = handle.name
        return self.read_paths

    def get_action(self) -> dict[str, Any]:
        """Figure 3a: GET /actions/{id}, cycling over the `read_actions` existing actions."""
        paths, headers = self._read_paths(), self.shared_org().headers
        return measure.http_load(
            self.base_url + "/actions", self.budget, headers=headers, paths_file=paths, server_pid=self.pid
        )

    def list_actions(self) -> dict[str, Any]:
        """Figure 3b: a GraphQL page of 50 actions with their decisions."""
        self._read_paths()
        return measure.graphql_load(
            self.base_url + "/graphql",
            self.budget,
            LIST_ACTIONS_QUERY,
            headers=self.shared_org().headers,
            server_pid=self.pid,
        )

    def fanout(self) -> dict[str, Any]:
        """Figure 5: pendingApprovals subscribers on a fresh server process (memory from zero); the
        worker relays each proposal's event to Redis, the server fans it out. The worker runs only
        for figures 5 and 6, so it never takes CPU from the request figures' server or client."""
        org = self.shared_org()
        self.drained_worker()
        try:
            with self._serve("gatehouse-serve-fanout") as server:
                ws_url = server.url.replace("http://", "ws://") + "/graphql"
                return measure.fleet(
                    ws_url,
                    server.url + "/actions",
                    self.budget,
                    server.pid,
                    api_key=org.api_key,
                    query=PENDING_SUBSCRIPTION,
                    proposal=PENDING_PROPOSAL,
                )
        finally:
            self.stop_worker()

    def dashboards(self) -> dict[str, Any]:
        """Figure 12: `budget.dashboards` pendingApprovals subscribers over DASHBOARD_ORGS
        organizations (bench/dashboards.py) on a fresh server process, proposals at 2/s; the
        worker relays. The server and the two client processes each hold thousands of sockets (procs
        raises their open-file limit)."""
        orgs = self._dashboard_orgs()
        self.drained_worker()
        try:
            with self._serve("gatehouse-serve-dashboards") as server:
                cmd = [PYTHON, "-m", "bench.dashboards", "run", "--base-url", server.url,
                       "--api-keys", ",".join(org.api_key for org in orgs), "--server-pid", str(server.pid),
                       "--subscribers", str(self.budget.dashboards),
                       "--duration", str(self.budget.dashboards_duration), "--action-type", PENDING_TYPE]
                return run_json(cmd, max(self.budget.step_timeout, 300.0))
        finally:
            self.stop_worker()

    def _dashboard_orgs(self) -> list[Org]:
        """Figure 12's organizations, each with an enforce policy that makes PENDING_TYPE pending."""
        if self._dashboards is None:
            self._dashboards = [create_org(self.config, f"bench-dashboards-{n}-{time.time_ns()}")
                                for n in range(DASHBOARD_ORGS)]
            for org in self._dashboards:
                create_policies(self.base_url, org, 1, matching_type=PENDING_TYPE)
        return self._dashboards

    def long_polls(self) -> dict[str, Any]:
        """Figure 8: `budget.long_polls` concurrent long-polls on the figure server, its own
        organization; no worker runs (a decision wakes its poll through the bus, not the relay)."""
        self.stop_worker()
        org = create_org(self.config, f"bench-long-poll-{time.time_ns()}")
        cmd = [PYTHON, "-m", "bench.long_poll", "--base-url", self.base_url, "--api-key", org.api_key,
               "--database-url", self.config.env["DATABASE_URL"], "-n", str(self.budget.long_polls)]
        cmd += ["--server-pid", str(self.pid)] if self.pid else []
        return run_json(cmd, self.budget.step_timeout)

    def audit(self) -> dict[str, Any]:
        """Figure 10: (a) the NDJSON export of `budget.audit_entries` entries, its own organization,
        server RSS before, at its peak during and after (bench/audit_export.py); (b) figure 1's load
        on the figure server (the proposal's statement writes its audit entry) and on a second
        server whose statement leaves it out (bench/audit_off.py), back to back."""
        org = create_org(self.config, f"bench-audit-{time.time_ns()}")
        cmd = [PYTHON, "-m", "bench.audit_export", "--base-url", self.base_url, "--api-key", org.api_key,
               "--org", org.organization_id, "--database-url", self.config.env["DATABASE_URL"],
               "-n", str(self.budget.audit_entries)]
        cmd += ["--server-pid", str(self.pid)] if self.pid else []
        exported = run_json(cmd, self.budget.step_timeout)
        on = self._rest_propose(self.budget)
        port = free_port()
        off_cmd = [PYTHON, "-m", "bench.audit_off", *[a.replace("{port}", str(port)) for a in SERVE_ARGS]]
        with Service("gatehouse-serve-audit-off", off_cmd, port, HEALTH_PATH, self.config.env) as off_server:
            body, headers = json.dumps(DEFAULT_PROPOSAL), self.shared_org().headers
            url = off_server.url + "/actions"
            measure.http_load(url, self.budget, "POST", body, headers)  # warm: pool, policy cache, first requests
            off = measure.http_load(url, self.budget, "POST", body, headers, server_pid=off_server.pid)
        return {"export": exported, "propose_on": on, "propose_off": off}
    def _backtest_setup(self) -> tuple[Org, str]:
        """Figure 11's organization (its 100 policies and `backtest_actions` recorded actions, made
        once through the API) and the id of the policy the draft replaces."""
        if self._backtests is None:
            org = create_org(self.config, f"bench-backtest-{time.time_ns()}")
            bodies = backtest_timing.policy_bodies()
            ids = [str(post_json(self.base_url + "/policy", org, body)["id"]) for body in bodies]
            proposals = backtest_timing.action_bodies(self.budget.backtest_actions)
            asyncio.run(_post_many(self.base_url + "/actions", org, proposals, "actionId", 16))
            self._backtests = (org, ids[0])
        return self._backtests

    def backtest(self) -> dict[str, Any]:
        """Figure 11: `POST /policy/backtest` over every recorded action of its organization with a
        draft tightening one of its 100 policies (best of three), and in the same step the engine
        alone over the same facts (bench/backtest_timing.py), in alternating order."""
        org, replaces = self._backtest_setup()
        cmd = [PYTHON, "-m", "bench.backtest_timing", "--database-url", self.config.env["DATABASE_URL"],
               "--org", org.organization_id, "--replaces", replaces]
        self._backtest_rounds += 1
        if self._backtest_rounds % 2:
            engine = run_json(cmd, self.budget.step_timeout)
            http = self._backtest_http(org, replaces)
        else:
            http = self._backtest_http(org, replaces)
            engine = run_json(cmd, self.budget.step_timeout)
        if http["changed"] != engine["changed"] or http["actions"] != engine["actions"]:
            raise RuntimeError(f"backtest and engine disagree: {http} against {engine}")
        return {"http": http, "engine": engine}

    def _backtest_http(self, org: Org, replaces: str) -> dict[str, Any]:
        body = {"policies": [{"rules": backtest_timing.DRAFT_RULES, "replaces": replaces}], "maxChanges": 100}
        runs = []
        for _ in range(3):
            cpu = sysstat.process_cpu_s(self.pid)
            started = time.perf_counter()
            answer = post_json(self.base_url + "/api/v1/policy/backtest", org, body)
            seconds = time.perf_counter() - started
            used = _cpu_us(cpu, sysstat.process_cpu_s(self.pid), 1)
            runs.append({"actions": answer["actions"], "changed": answer["changed"], "ms": round(seconds * 1000, 1),
                         "per_s": round(answer["actions"] / seconds), "server_cpu_ms": used and round(used / 1000, 1)})
        return min(runs, key=lambda run: run["ms"])

    def _webhook_receiver(self) -> tuple[Org, Service]:
        """The webhook organization, its one webhook and the receiver it points at (made once)."""
        if self._hooks is None or self.hook_receiver is None:
            self._hooks = create_org(self.config, f"bench-webhooks-{time.time_ns()}")
            port = free_port()
            hook = create_webhook(self.base_url, self._hooks, f"http://127.0.0.1:{port}/gatehouse")
            cmd = [PYTHON, "-m", "bench.baselines.receiver", "--port", str(port)]
            cmd += ["--secret", str(hook["secret"])] if hook.get("secret") else []
            self.hook_receiver = Service("receiver-gatehouse", cmd, port, "/count").start()
        return self._hooks, self.hook_receiver

    def webhooks(self, sample: Callable[[int, Callable[[], Any]], Any] | None = None) -> dict[str, Any]:
        """Figure 6: a backlog of N deliveries made while no worker runs, then one worker process;
        the rate is taken at the receiver, first to last delivery, so worker start-up is excluded.
        So is the relay's first batch (its claim, fan-out and commit come before any send): a larger
        relay batch moves work out of that window without draining the burst any sooner, which
        `per_s_from_written` shows (from the first delivery row written to the last received).
        The receiver verifies every signature, as it does for the bare senders. `sample(pid, wait)`,
        when given, profiles the worker while it drains the backlog."""
        org, receiver = self._webhook_receiver()
        self.drained_worker()  # earlier figures' events relayed (none of them is a delivery) and entries sealed
        self.stop_worker()
        _reset(receiver.url)
        expected = self.budget.deliveries * (PROFILED_BACKLOG if sample else 1)
        proposed_from = datetime.now(UTC)
        propose_many(self.base_url, org, expected)
        wal_before = database.wal_bytes(self.config.env["DATABASE_URL"])
        try:
            worker = self.start_worker()
            started = _wait_for_deliveries(receiver.url, 1, self.budget.step_timeout, interval=0.005)
            cpu_before = sysstat.process_cpu_s(worker.pid)
            machine_before = sysstat.cpu_by_command()

            def wait() -> dict[str, Any]:
                return _wait_for_deliveries(receiver.url, expected, self.budget.step_timeout)

            counts = sample(worker.pid or 0, wait) if sample else wait()
            cpu_after = sysstat.process_cpu_s(worker.pid)
            machine_after = sysstat.cpu_by_command()
        finally:
            self.stop_worker()
        sent = counts["count"] - started["count"]
        wal = (database.wal_bytes(self.config.env["DATABASE_URL"]) - wal_before) // max(expected, 1)
        cpu = None if cpu_before is None or cpu_after is None or sent <= 0 else (cpu_after - cpu_before) / sent
        written = database.first_delivery_written(self.config.env["DATABASE_URL"], org.organization_id, proposed_from)
        return {"per_s": delivery_rate(counts), "per_s_from_written": rate_from_written(counts, written),
                "worker_cpu_us_per_delivery": None if cpu is None else round(cpu * 1e6, 1),
                "cpu_us_per_delivery_by_command": sysstat.cpu_spent_since(machine_before, machine_after, sent),
                "wal_bytes_per_delivery": wal, **counts}

    def _workflow_setup(self) -> Flows:
        """Figure 7's own organization (its workflow events reach no other figure), a receiver that
        checks no signature (a step's call is not signed) and the one-step workflow (made once)."""
        if self._flows is None:
            org = create_org(self.config, f"bench-workflows-{time.time_ns()}")
            port = free_port()
            cmd = [PYTHON, "-m", "bench.baselines.receiver", "--port", str(port)]
            receiver = Service("receiver-workflows", cmd, port, "/count").start()
            try:
                created = post_json(self.base_url + WORKFLOWS_PATH, org, one_step_workflow(receiver.url + "/hook"))
            except BaseException:
                receiver.stop()
                raise
            self._flows = Flows(org, str(created["id"]), receiver)
        return self._flows

    def workflows(self) -> dict[str, Any]:
        """Figure 7. Throughput: a backlog of N executions queued through the API while no worker
        runs, then one worker at GATEHOUSE_WORKFLOW_CONCURRENCY = C; executions/s from the first
        run's start to the last one's finish (the worker's own timestamps, so its start-up is not
        counted). Then, with that worker idle, the overhead per step at concurrency 1
        (bench.workflow_latency)."""
        flows, budget = self._workflow_setup(), self.budget
        database_url, limit = self.config.env["DATABASE_URL"], budget.step_timeout
        if database.left_over(database_url):
            self.drained_worker()  # earlier figures' events relayed first, so the runs' own are all it relays
        self.stop_worker()
        _reset(flows.receiver.url)
        ids = execute_many(self.base_url, flows.org, flows.workflow_id, budget.workflow_executions)
        count = len(ids)
        try:
            worker = self.start_worker({"GATEHOUSE_WORKFLOW_CONCURRENCY": str(budget.workflow_concurrency)})
            database.wait_executions(database_url, ids, lambda p: p["started"] > 0, limit, 0.005)
            cpu_before = sysstat.process_cpu_s(worker.pid)
            done = database.wait_executions(
                database_url, ids, lambda p: p["completed"] + p["failed"] >= count, limit, 0.05
            )
            cpu_after = sysstat.process_cpu_s(worker.pid)
            calls = _wait_for_deliveries(flows.receiver.url, count, 5)["count"]  # each run called once
            left = database.wait_drained(database_url, limit)  # events relayed, entries sealed: idle
            if left:
                raise RuntimeError(f"the worker left {left} events unrelayed or audit entries unsealed")
            idle_cpu = sysstat.process_cpu_s(worker.pid)
            latency = self._step_latency(flows)
            latency["worker_cpu_us_per_execution"] = _cpu_us(idle_cpu, sysstat.process_cpu_s(worker.pid),
                                                             latency["samples"] + 1)  # + the warm-up
        finally:
            self.stop_worker()
        span = (done["last_finished"] - done["first_started"]).total_seconds() if done["completed"] else 0.0
        return {
            "per_s": round(done["completed"] / span, 1) if span > 0 else None,
            "executions": count,
            "completed": done["completed"],
            "requests": done["completed"],
            "errors": count - done["completed"],
            "first_error": done["first_error"],
            "receiver_calls": calls,
            "span_s": round(span, 3),
            "concurrency": budget.workflow_concurrency,
            "worker_cpu_us_per_execution": _cpu_us(cpu_before, cpu_after, count),
            "latency": latency,
        }

    def _step_latency(self, flows: Flows) -> dict[str, Any]:
        """Figure 7's overhead per step at concurrency 1, in its own process (see bench.workflow_latency)."""
        cmd = [
            PYTHON,
            "-m",
            "bench.workflow_latency",
            "--execute-url",
            f"{self.base_url}{WORKFLOWS_PATH}/{flows.workflow_id}/execute",
            "--api-key",
            flows.org.api_key,
            "--call-url",
            flows.call_url,
            "--database-url",
            self.config.env["DATABASE_URL"],
            "-n",
            str(self.budget.workflow_latency_samples),
        ]
        return run_json(cmd, self.budget.step_timeout)

    def mcp(self) -> dict[str, Any]:
        """Figure 9. propose_action over MCP against POST /actions, the same proposal in the same
        organization (figure 1's, 100 policies), back to back in alternating order: over the current
        protocol revision (2026-07-28, what the SDK's own client speaks to this server by default) and,
        as a detail, over the handshake-era one (2025-06-18, stateless Streamable HTTP); then the
        gateway's overhead per forwarded call over calling the upstream directly (its own process,
        bench.mcp_gateway_latency)."""
        org = self.shared_org()
        body, headers = json.dumps(MCP_PROPOSE), {**org.headers, **MCP_HEADERS}
        legacy_body, legacy_headers = json.dumps(MCP_LEGACY_PROPOSE), {**org.headers, **MCP_LEGACY_HEADERS}
        _check_mcp_answer(post_raw(self.base_url + "/mcp", headers, body))
        _check_mcp_answer(post_raw(self.base_url + "/mcp", legacy_headers, legacy_body))
        runs = {
            "rest": lambda: self._rest_propose(self.budget),
            "propose": lambda: measure.http_load(self.base_url + "/mcp", self.budget, "POST", body, headers,
                                                 server_pid=self.pid),
            "legacy": lambda: measure.http_load(self.base_url + "/mcp", self.budget, "POST", legacy_body,
                                                legacy_headers, server_pid=self.pid),
        }
        order = list(runs) if self._mcp_rounds % 2 == 0 else list(runs)[::-1]
        self._mcp_rounds += 1
        result: dict[str, Any] = {name: runs[name]() for name in order}
        result["gateway"] = self._gateway_latency()
        parts = ("rest", "propose", "legacy", "gateway")
        result["requests"] = sum(int(result[n].get("requests") or 0) for n in parts)
        result["errors"] = sum(int(result[n].get("errors") or 0) for n in parts)
        result["first_error"] = next((result[n].get("first_error") for n in runs if result[n].get("first_error")),
                                     None)
        return result

    def _gateway_latency(self) -> dict[str, Any]:
        if self.mcp_upstream is None:
            port = free_port()
            self.mcp_upstream = Service("mcp-upstream", uvicorn_cmd(MCP_UPSTREAM_APP, port), port).start()
        if self._mcp_org is None:
            org = create_org(self.config, f"bench-mcp-{time.time_ns()}")
            upstream = {"name": "bench", "url": self.mcp_upstream.url + "/mcp"}
            post_json(self.base_url + "/api/v1/mcp-servers", org, upstream)
            rule = {"when": {"actionType": "mcp.bench.echo"}, "approval": "auto"}
            post_json(self.base_url + "/policy", org, {"name": "bench echo", "rules": [rule]})
            self._mcp_org = org
        cmd = [PYTHON, "-m", "bench.mcp_gateway_latency", "--gateway-url", self.base_url + "/mcp/gateways/bench",
               "--upstream-url", self.mcp_upstream.url + "/mcp", "--api-key", self._mcp_org.api_key,
               "-n", str(self.budget.workflow_latency_samples)]
        return run_json(cmd, self.budget.step_timeout)

    def profile(self) -> list[Path]:
        """py-spy samples of the server while proposeAction, then POST /actions, run under load
        (after the figures, so sampling never perturbs them)."""
        if self.server is None or self.server.pid is None:
            return []
        seconds = self.budget.profile_seconds
        pid, load = self.server.pid, replace(self.budget, warmup=min(1.0, seconds), duration=seconds)
        found = [
            profile.record(pid, "propose-graphql", load.duration, lambda: self.graphql_propose(load)),
            profile.record(pid, "propose-rest", load.duration, lambda: self._rest_propose(load)),
        ]
        worker: list[Path] = []

        def sample(worker_pid: int, wait: Callable[[], dict[str, Any]]) -> dict[str, Any]:
            counts: dict[str, Any] = {}

            def drain() -> dict[str, Any]:
                counts.update(wait())
                return {"rps": delivery_rate(counts), "server_cpu_us_per_request": None}

            worker.append(profile.record(worker_pid, "webhooks-worker", seconds, drain))
            return counts

        self.webhooks(sample)
        return found + worker


def delivery_rate(counts: dict[str, Any]) -> float | None:
    """Deliveries per second at the receiver, first to last (a worker's start-up is not counted)."""
    span = (counts.get("last") or 0) - (counts.get("first") or 0)
    return round((counts["count"] - 1) / span, 1) if span > 0 else None


def rate_from_written(counts: dict[str, Any], written: datetime | None) -> float | None:
    """Deliveries per second from the first delivery row the relay wrote to the last delivery the
    receiver got: the whole burst but the worker's start-up and its first relay claim. The
    receiver's times are this machine's monotonic clock, the row's its wall clock: converted here."""
    if written is None or counts.get("last") is None:
        return None
    last_wall = counts["last"] + (time.time() - time.monotonic())
    span = last_wall - written.timestamp()
    return round(counts["count"] / span, 1) if span > 0 else None


def _cpu_us(before: float | None, after: float | None, count: int) -> float | None:
    """A process's CPU per unit of work, in microseconds, from two readings."""
    return None if before is None or after is None or count <= 0 else round((after - before) * 1e6 / count, 1)


def post_raw(url: str, headers: dict[str, str], body: str) -> str:
    request = urllib.request.Request(url, data=body.encode(), method="POST",
                                     headers={"content-type": "application/json", **headers})
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(response.read().decode())


def _check_mcp_answer(text: str) -> None:
    """One MCP proposal answered a structured action before its load run (the load counts statuses only)."""
    if '"action_id"' not in text or '"isError":true' in text.replace(" ", ""):
        raise RuntimeError(f"propose_action over MCP did not answer an action: {text[:300]}")


def _reset(receiver_url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(receiver_url + "/reset", method="POST"), timeout=5).close()


def _wait_for_deliveries(receiver_url: str, expected: int, limit_s: float, interval: float = 0.2) -> dict[str, Any]:
    """Poll the receiver's counters until `expected` deliveries arrived or `limit_s` passed."""
    counts: dict[str, Any] = {}
    deadline = time.monotonic() + limit_s
    for _ in range(int(limit_s / interval) + 1):
        with urllib.request.urlopen(receiver_url + "/count", timeout=5) as response:
            counts = json.loads(response.read())
        if counts["count"] >= expected or time.monotonic() > deadline:
            break
        time.sleep(interval)
    return counts
