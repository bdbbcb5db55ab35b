"""How long and how hard each figure is driven: the full run and the quick one."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Budget:
    rounds: int = 3
    connections: int = 32  # the scale figures were taken with 32 connections
    duration: float = 5.0
    warmup: float = 1.0
    deliveries: int = 3000
    sender_configs: tuple[str, ...] = ()  # substrings of sender configuration names; empty: all
    subscribers: int = 1000
    fleet_rate: float = 10.0
    fleet_duration: float = 20.0
    fleet_drain: float = 40.0
    engine_seconds: float = 0.5  # timing budget per engine size and shape
    receiver_capacity: bool = True  # a check that the receiver is no bottleneck, not a figure
    step_timeout: float = 300.0  # upper bound for any one load process
    read_actions: int = 500  # actions made once for figure 3's reads
    profile_seconds: float = 5.0  # py-spy sampling per profiled path
    workflow_executions: int = 3000  # figure 7's backlog, and its baseline's direct calls
    workflow_concurrency: int = 64  # GATEHOUSE_WORKFLOW_CONCURRENCY (its default), and the baseline's lanes
    workflow_latency_samples: int = 200  # figure 7's executions one at a time, each paired with a direct call
    audit_entries: int = 100_000  # figure 10's export (the same in the quick run: it is the claim)
    backtest_actions: int = 10_000  # figure 11's recorded actions (the same in the quick run: the target's size)
    long_polls: int = 500  # figure 8's concurrent `GET /actions/{id}?wait=` (the same in the quick run: cheap)
    dashboards: int = 10_000  # figure 12's open pendingApprovals subscriptions on one server process
    dashboards_duration: float = 30.0  # figure 12's proposals at 2/s for this long


FULL = Budget()
QUICK = replace(
    FULL,
    duration=0.3,
    warmup=0.1,
    deliveries=200,
    subscribers=50,
    fleet_duration=0.5,
    fleet_drain=5.0,
    read_actions=100,
    workflow_executions=100,
    workflow_latency_samples=20,
    profile_seconds=1.0,
    sender_configs=("httpx 1 client, concurrency 8", "httpx 8 clients", "aiohttp 1 session, concurrency 32"),
    engine_seconds=0.05,
    receiver_capacity=False,
    step_timeout=60.0,
    dashboards=2_000,
    dashboards_duration=5.0,
)
