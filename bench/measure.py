"""Baseline-side measurements: each starts nothing itself, drives one service, returns raw numbers.

Every load run goes through `python -m bench.load` in its own process, the same client for Gatehouse
and for the baselines, so the two sides of a figure differ only in the server.
"""

from __future__ import annotations

import json
from typing import Any

from bench.baselines.strawberry_mutation import PROPOSE_MUTATION
from bench.budget import Budget
from bench.fleet import DEFAULT_PROPOSAL
from bench.procs import PYTHON, Service, free_port, run_json, uvicorn_cmd

PROPOSAL_BODY = json.dumps(DEFAULT_PROPOSAL)
GRAPHQL_VARIABLES = json.dumps({"input": DEFAULT_PROPOSAL})


def _load_cmd(mode: str, url: str, budget: Budget, *extra: str) -> list[str]:
    return [
        PYTHON,
        "-m",
        "bench.load",
        mode,
        url,
        "-c",
        str(budget.connections),
        "-d",
        str(budget.duration),
        "-w",
        str(budget.warmup),
        *extra,
    ]


def _common(headers: dict[str, str] | None, server_pid: int | None) -> list[str]:
    extra = ["--server-pid", str(server_pid)] if server_pid else []
    for name, value in (headers or {}).items():
        extra += ["-H", f"{name}: {value}"]
    return extra


def http_load(
    url: str,
    budget: Budget,
    method: str = "GET",
    body: str = "",
    headers: dict[str, str] | None = None,
    paths_file: str | None = None,
    server_pid: int | None = None,
) -> dict[str, Any]:
    """Closed-loop HTTP load (requests/s, latency) against any server, Gatehouse or baseline."""
    extra = ["-X", method, *(["--body", body] if body else [])]
    extra += ["--paths", paths_file] if paths_file else []
    extra += _common(headers, server_pid)
    return run_json(_load_cmd("http", url, budget, *extra), budget.step_timeout)


def graphql_load(
    url: str,
    budget: Budget,
    query: str,
    variables: str = "{}",
    headers: dict[str, str] | None = None,
    server_pid: int | None = None,
) -> dict[str, Any]:
    """Closed-loop GraphQL-over-HTTP load; an answer with `errors` counts as a failure."""
    extra = ["--query", query, "--variables", variables, *_common(headers, server_pid)]
    return run_json(_load_cmd("graphql", url, budget, *extra), budget.step_timeout)


def fleet(
    ws_url: str,
    propose_url: str,
    budget: Budget,
    server_pid: int | None,
    api_key: str | None = None,
    query: str | None = None,
    proposal: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The subscriber fleet against one server (see bench.fleet)."""
    cmd = [
        PYTHON,
        "-m",
        "bench.load",
        "fleet",
        "--ws-url",
        ws_url,
        "--propose-url",
        propose_url,
        "--subscribers",
        str(budget.subscribers),
        "--rate",
        str(budget.fleet_rate),
        "--duration",
        str(budget.fleet_duration),
        "--drain-timeout",
        str(budget.fleet_drain),
    ]
    cmd += ["--server-pid", str(server_pid)] if server_pid else []
    cmd += ["--api-key", api_key] if api_key else []
    cmd += ["--query", query] if query else []
    cmd += ["--proposal", json.dumps(proposal)] if proposal else []
    result = run_json(cmd, budget.step_timeout + budget.fleet_duration + budget.fleet_drain + 60)
    after_kb = result.get("server_memory_kb", {}).get("after_kb")
    result["server_memory_mb"] = None if after_kb is None else round(after_kb / 1024, 1)
    return result


def asyncpg_insert(service: Service, budget: Budget) -> dict[str, Any]:
    """Figure 1's baseline: the documented proposal body POSTed to the bare Starlette+asyncpg app."""
    return http_load(service.url + "/actions", budget, "POST", PROPOSAL_BODY, server_pid=service.pid)


def strawberry_mutation(service: Service, budget: Budget) -> dict[str, Any]:
    """Figure 2's baseline: the same proposal through the bare Strawberry mutation."""
    return graphql_load(service.url + "/graphql", budget, PROPOSE_MUTATION, GRAPHQL_VARIABLES, server_pid=service.pid)


def receiver_capacity(receiver: Service, budget: Budget) -> dict[str, Any]:
    """How many signed-size POSTs/s the receiver takes (it must far exceed any sender)."""
    from bench.baselines.senders import signed_delivery

    body, headers = signed_delivery(0)
    return http_load(receiver.url + "/capacity", budget, "POST", body.decode(), headers, server_pid=receiver.pid)


def senders(receiver: Service, budget: Budget) -> dict[str, Any]:
    """Figure 6's baseline: every bare sender configuration; the best per library and overall."""
    cmd = [
        PYTHON,
        "-m",
        "bench.baselines.senders",
        "--url",
        receiver.url + "/hook",
        "-n",
        str(budget.deliveries),
    ]
    for name in budget.sender_configs:
        cmd += ["--config", name]
    result = run_json(cmd, budget.step_timeout)
    best = result["best"]
    return {
        "best": max(b["per_s"] for b in best.values()),
        "httpx": best.get("httpx", {}).get("per_s"),
        "aiohttp": best.get("aiohttp", {}).get("per_s"),
        "configs": {c["name"]: c["per_s"] for c in result["configs"]},
        "cpu_us": {c["name"]: c["cpu_us_per_delivery"] for c in result["configs"]},
    }


def durable_sender(receiver: Service, budget: Budget) -> dict[str, Any]:
    """Figure 6's durable floor: the same burst relayed, leased, sent and recorded by bare asyncpg and
    aiohttp in one process (bench/baselines/durable_sender.py)."""
    cmd = [PYTHON, "-m", "bench.baselines.durable_sender", "--url", receiver.url + "/hook",
           "-n", str(budget.deliveries)]
    return run_json(cmd, budget.step_timeout)


def direct_calls(receiver: Service, budget: Budget) -> dict[str, Any]:
    """Figure 7's baseline: the workflow step's call made directly, one httpx client, same concurrency."""
    cmd = [
        PYTHON,
        "-m",
        "bench.baselines.direct_calls",
        "--url",
        receiver.url + "/hook",
        "-n",
        str(budget.workflow_executions),
        "-c",
        str(budget.workflow_concurrency),
    ]
    result = run_json(cmd, budget.step_timeout)
    return {**result, "requests": result["calls"]}


def subscription_baseline(budget: Budget) -> dict[str, Any]:
    """Figure 5's baseline on a fresh server process, so its memory figure starts from zero each round."""
    port = free_port()
    app = "bench.baselines.subscription_baseline:app"
    with Service("baseline-subscription", uvicorn_cmd(app, port), port) as service:
        ws_url = f"ws://127.0.0.1:{port}/graphql"
        return fleet(ws_url, service.url + "/actions", budget, service.pid)
