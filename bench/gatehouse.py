"""Gatehouse-side measurements, kept apart from the baselines so they can be wired as Gatehouse lands.

Everything Gatehouse-specific is here: how to start `gatehouse serve` / `gatehouse worker`, how an
organization and key are made (`gatehouse create-org NAME --plan enterprise --json`), the setup each
figure needs over the documented REST contract (`POST /policy`, `POST /api/v1/webhooks`,
`POST /actions`), and the GraphQL documents the figures send. Assumptions that the schema has not
confirmed yet are module constants marked UNCONFIRMED; a figure whose code cannot run yet raises
NotWired and the table says so instead of guessing a number.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import measure
from bench.budget import Budget
from bench.fleet import DEFAULT_PROPOSAL, DEFAULT_QUERY
from bench.httpclient import Pool, Target, encode_request
from bench.load import path_of
from bench.procs import BENCH_DIR, PYTHON, REPO_DIR, Service, free_port

DEFAULT_ENV = {
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/gatehouse_bench",
    "REDIS_URL": "redis://127.0.0.1:6379/2",
    "GATEHOUSE_ALLOW_PRIVATE_TARGETS": "1",
}
HEALTH_PATH = "/health"  # UNCONFIRMED: any answer under 500 counts as ready
SERVE_ARGS = ["serve", "--host", "127.0.0.1", "--port", "{port}"]  # UNCONFIRMED flags
WORKER_ARGS = ["worker"]
PROPOSE_MUTATION = (  # UNCONFIRMED: input type name and payload fields
    "mutation Propose($input: ProposeActionInput!) { proposeAction(input: $input) "
    "{ actionId status policyIds decision { status checks { name status note } } } }"
)
LIST_ACTIONS_QUERY = (  # UNCONFIRMED: Relay connection of actions with their decisions
    "query { actions(first: 50) { edges { node { id type status "
    "decision { status checks { name status note } } } } pageInfo { hasNextPage endCursor } } }"
)
PENDING_SUBSCRIPTION = DEFAULT_QUERY  # UNCONFIRMED: selection must include the action's id
# Figure 5's proposals use their own action type, so its enforce policy can never make another
# figure's proposals pending even when all figures share one organization (--api-key).
PENDING_PROPOSAL = {**DEFAULT_PROPOSAL, "type": "bench_pending_review"}
SHARED_ORG_PURPOSES = ("rest", "reads", "fanout")  # what a given --api-key is used for


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
    api_key: str | None = None  # an existing key: figures 1-3 and 5 use its organization
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


def create_org(config: GatehouseConfig, name: str) -> Org:
    """A fresh enterprise organization (no quota) and its key, from the operator CLI."""
    cmd = [*config.cli, "create-org", name, "--plan", "enterprise", "--json"]
    out = subprocess.run(cmd, cwd=REPO_DIR, env=config.process_env(), capture_output=True, timeout=60, check=True)
    data = json.loads(out.stdout.decode().strip().splitlines()[-1])
    return Org(data["organizationId"], data["apiKey"])


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


async def _propose_many(base_url: str, org: Org, count: int, concurrency: int) -> list[str]:
    target = Target.from_url(base_url)
    headers = {"content-type": "application/json", **org.headers}
    raw = encode_request(target, "POST", path_of(base_url + "/actions"), headers, json.dumps(DEFAULT_PROPOSAL).encode())
    pool, ids = Pool(target), []

    async def lane(share: int) -> None:
        for _ in range(share):
            response = await pool.send(raw)
            ids.append(json.loads(response.body)["actionId"])

    shares = [count // concurrency + (i < count % concurrency) for i in range(concurrency)]
    await asyncio.gather(*(lane(share) for share in shares))
    pool.close()
    return ids


def propose_many(base_url: str, org: Org, count: int, concurrency: int = 16) -> list[str]:
    """Create `count` actions quickly (setup for reads and for the webhook backlog)."""
    return asyncio.run(_propose_many(base_url, org, count, concurrency))


class GatehouseSide:
    """Owns the Gatehouse processes and organizations of one harness run; one method per figure."""

    def __init__(self, config: GatehouseConfig, budget: Budget) -> None:
        self.config, self.budget = config, budget
        self.server: Service | None = None
        self.orgs: dict[str, Org] = {}
        self.read_paths: str | None = None

    def _serve(self, name: str) -> Service:
        port = free_port()
        cmd = [part.replace("{port}", str(port)) for part in self.config.serve_cmd]
        return Service(name, cmd, port, HEALTH_PATH, self.config.env).start()

    def start(self) -> None:
        if self.config.base_url is None:
            self.server = self._serve("gatehouse-serve")
            self.config.base_url = self.server.url

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    @property
    def pid(self) -> int | None:
        """The server's pid when the harness started it (for its CPU and memory), else None."""
        return None if self.server is None else self.server.pid

    @property
    def base_url(self) -> str:
        assert self.config.base_url is not None, "start() first"
        return self.config.base_url

    def org(self, purpose: str, policies: int = 0, matching_type: str | None = None) -> Org:
        """One organization per figure (made with the CLI) so one figure's policies never cost
        another; with a given API key, that key's organization instead, where it is safe."""
        if purpose not in self.orgs:
            if self.config.api_key and purpose in SHARED_ORG_PURPOSES:
                org = Org("(given key)", self.config.api_key)
            else:
                org = create_org(self.config, f"bench-{purpose}-{int(time.time())}")
            create_policies(self.base_url, org, policies, matching_type)
            self.orgs[purpose] = org
        return self.orgs[purpose]

    def rest_propose(self) -> dict[str, Any]:
        """Figure 1: POST /actions in an organization with 100 active (non-matching) policies."""
        org = self.org("rest", policies=100)
        body = json.dumps(DEFAULT_PROPOSAL)
        return measure.http_load(
            self.base_url + "/actions", self.budget, "POST", body, org.headers, server_pid=self.pid
        )

    def graphql_propose(self) -> dict[str, Any]:
        """Figure 2: the proposeAction mutation, same organization shape as figure 1."""
        org = self.org("rest", policies=100)
        variables = json.dumps({"input": DEFAULT_PROPOSAL})
        return measure.graphql_load(self.base_url + "/graphql", self.budget, PROPOSE_MUTATION, variables, org.headers)

    def _reads_org(self) -> tuple[Org, str]:
        """An organization holding 500 actions, and a file of their GET paths (made once)."""
        org = self.org("reads")
        if self.read_paths is None:
            ids = propose_many(self.base_url, org, 500)
            with tempfile.NamedTemporaryFile("w", suffix=".paths", delete=False) as handle:
                handle.write("\n".join(f"/actions/{i}" for i in ids))
            self.read_paths = handle.name
        return org, self.read_paths

    def get_action(self) -> dict[str, Any]:
        """Figure 3a: GET /actions/{id}, cycling over 500 existing actions."""
        org, paths = self._reads_org()
        return measure.http_load(self.base_url + "/actions", self.budget, headers=org.headers, paths_file=paths)

    def list_actions(self) -> dict[str, Any]:
        """Figure 3b: a GraphQL page of 50 actions with their decisions."""
        org, _ = self._reads_org()
        return measure.graphql_load(self.base_url + "/graphql", self.budget, LIST_ACTIONS_QUERY, headers=org.headers)

    def engine(self) -> dict[str, Any]:
        """Figure 4: decision time of the pure policy engine for 10, 1,000 and 10,000 policies.

        To wire: time `resolvers.governance.engine` in a child process (no I/O, so no server) on one
        action against N generated policies, median of many calls; return {"10": us, "1000": us,
        "10000": us}.
        """
        raise NotWired("policy engine entry point not confirmed yet")

    def fanout(self) -> dict[str, Any]:
        """Figure 5: 1,000 pendingApprovals subscribers on a fresh server process (memory from zero)."""
        org = self.org("fanout", policies=1, matching_type=PENDING_PROPOSAL["type"])
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

    def webhooks(self) -> dict[str, Any]:
        """Figure 6: a backlog of N deliveries, then one worker process started; rate at the receiver.

        A fresh organization and webhook each round (a second webhook would double the deliveries);
        the receiver verifies every signature with the webhook's secret, as it does for bare senders.
        """
        org = create_org(self.config, f"bench-webhooks-{time.time_ns()}")
        port = free_port()
        hook = create_webhook(self.base_url, org, f"http://127.0.0.1:{port}/gatehouse")
        cmd = [PYTHON, "-m", "bench.baselines.receiver", "--port", str(port)]
        cmd += ["--secret", str(hook["secret"])] if hook.get("secret") else []
        with Service("receiver-gatehouse", cmd, port, "/count") as receiver:
            propose_many(self.base_url, org, self.budget.deliveries)
            with Service("gatehouse-worker", self.config.worker_cmd, env=self.config.env):
                counts = _wait_for_deliveries(receiver.url, self.budget.deliveries, self.budget.step_timeout)
        span = (counts["last"] or 0) - (counts["first"] or 0)
        return {"per_s": round((counts["count"] - 1) / span, 1) if span > 0 else None, **counts}

    def workflows(self) -> dict[str, Any]:
        """Figure 7: executions/s of a one-step http_request workflow, overhead per step vs direct."""
        raise NotWired("workflows have not landed")

    def profile(self) -> Path | None:
        """Sample the server with py-spy while proposeAction is under load; keep the collapsed
        stacks and a text summary of the top frames, so the next optimisation starts from data."""
        py_spy = shutil.which("py-spy") or str(Path(PYTHON).with_name("py-spy"))
        if self.server is None or not Path(py_spy).exists():
            return None
        raw = BENCH_DIR / "profile-propose.collapsed"
        seconds = int(self.budget.warmup + self.budget.duration)
        cmd = [py_spy, "record", "--pid", str(self.server.pid), "--duration", str(seconds)]
        spy = subprocess.Popen([*cmd, "--format", "raw", "-o", str(raw)], stdout=subprocess.DEVNULL)
        self.graphql_propose()
        spy.wait(timeout=seconds + 60)
        summary = BENCH_DIR / "profile-propose.txt"
        summary.write_text(top_frames(raw.read_text()))
        return summary


def top_frames(collapsed: str, limit: int = 25) -> str:
    """Self and inclusive sample shares per frame from py-spy's collapsed stacks."""
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count, frames = int(count_text), stack.split(";")
        total += count
        own[frames[-1]] = own.get(frames[-1], 0) + count
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + count
    lines = [f"{total} samples", "", "self%  incl%  frame"]
    for frame, count in sorted(own.items(), key=lambda item: -item[1])[:limit]:
        lines.append(f"{100 * count / total:5.1f}  {100 * inclusive[frame] / total:5.1f}  {frame}")
    return "\n".join(lines) + "\n"


def _wait_for_deliveries(receiver_url: str, expected: int, limit_s: float) -> dict[str, Any]:
    """Poll the receiver's counters until `expected` deliveries arrived or `limit_s` passed."""
    counts: dict[str, Any] = {}
    deadline = time.monotonic() + limit_s
    for _ in range(int(limit_s / 0.2) + 1):
        with urllib.request.urlopen(receiver_url + "/count", timeout=5) as response:
            counts = json.loads(response.read())
        if counts["count"] >= expected or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    return counts
