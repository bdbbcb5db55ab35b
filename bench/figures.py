"""The figures of the benchmark issue: where each value comes from, its baseline, its target.

A figure names a metric of a measurement (`"baseline.asyncpg_insert"`, `"latency_ms.p99"`); the
harness collects one sample per round and this module turns the samples into the table rows and the
`figures` entries of results.json. Ratios are value / baseline, taken per round (both sides ran
back to back, so they share that moment's noise) and then the median over rounds.
"""

from __future__ import annotations

import operator
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.stats import spread

Samples = dict[str, list[dict[str, Any] | None]]  # measurement key -> one result per round
LOGGED_ERRORS = "gatehouse.logged_errors"  # one sample for the whole run (bench/logwatch.py)
OPS: dict[str, Callable[[float, float], bool]] = {">=": operator.ge, "<=": operator.le, "<": operator.lt}


@dataclass(frozen=True)
class Goal:
    """A target on the ratio or on the value itself, e.g. ratio >= 0.5 or p99 < 250 ms."""

    on: str  # "ratio" | "value"
    op: str
    bound: float

    def text(self) -> str:
        return f"{self.on} {self.op} {self.bound:g}"

    def met(self, value: float | None, ratio: float | None) -> bool | None:
        subject = ratio if self.on == "ratio" else value
        return None if subject is None else OPS[self.op](subject, self.bound)


@dataclass(frozen=True)
class Figure:
    name: str
    unit: str
    value: tuple[str, str]  # (measurement key, dotted metric path)
    baseline: tuple[str, str] | None = None
    goal: Goal | None = None


FIGURES = [
    Figure(
        "1. POST /actions, 100 policies",
        "req/s",
        ("gatehouse.rest_propose", "rps"),
        ("baseline.asyncpg_insert", "rps"),
        Goal("ratio", ">=", 0.6),  # issue 17: 0.6 (it was 0.5)
    ),
    Figure(
        "1. POST /actions, 100 policies, p99",
        "ms",
        ("gatehouse.rest_propose", "latency_ms.p99"),
        ("baseline.asyncpg_insert", "latency_ms.p99"),
    ),
    Figure(
        "1. server CPU per POST /actions",
        "us",
        ("gatehouse.rest_propose", "server_cpu_us_per_request"),
        ("baseline.asyncpg_insert", "server_cpu_us_per_request"),
    ),
    Figure(
        "2. proposeAction (GraphQL)",
        "req/s",
        ("gatehouse.graphql_propose", "rps"),
        ("baseline.strawberry_mutation", "rps"),
        Goal("ratio", ">=", 0.8),
    ),
    Figure(
        "2. proposeAction (GraphQL), p99",
        "ms",
        ("gatehouse.graphql_propose", "latency_ms.p99"),
        ("baseline.strawberry_mutation", "latency_ms.p99"),
    ),
    Figure(
        "2. server CPU per proposeAction",
        "us",
        ("gatehouse.graphql_propose", "server_cpu_us_per_request"),
        ("baseline.strawberry_mutation", "server_cpu_us_per_request"),
    ),
    Figure("3. GET /actions/{id}", "req/s", ("gatehouse.get_action", "rps")),
    Figure("3. GraphQL list of 50 actions with decisions", "req/s", ("gatehouse.list_actions", "rps")),
    Figure("4. engine decision, 10 policies", "us", ("gatehouse.engine", "10")),
    Figure("4. engine decision, 1,000 policies", "us", ("gatehouse.engine", "1000"), ("gatehouse.engine", "10")),
    Figure(
        "4. engine decision, 10,000 policies",
        "us",
        ("gatehouse.engine", "10000"),
        ("gatehouse.engine", "10"),
        Goal("ratio", "<=", 2.0),
    ),
    Figure(
        "4. engine decision, 10,000 glob policies",
        "us",
        ("gatehouse.engine", "globs.10000.decide_us"),
        ("gatehouse.engine", "10"),
        Goal("ratio", "<=", 2.0),
    ),
    Figure(
        "5. pendingApprovals fan-out p50",
        "ms",
        ("gatehouse.fanout", "latency_ms.p50"),
        ("baseline.subscription", "latency_ms.p50"),
    ),
    Figure(
        "5. pendingApprovals fan-out p99",
        "ms",
        ("gatehouse.fanout", "latency_ms.p99"),
        ("baseline.subscription", "latency_ms.p99"),
        Goal("value", "<", 250),
    ),
    Figure(
        "5. (detail) p99 from proposal sent",
        "ms",
        ("gatehouse.fanout", "from_sent_ms.p99"),
        ("baseline.subscription", "from_sent_ms.p99"),
    ),
    Figure(
        "5. pendingApprovals delivered share",
        "share",
        ("gatehouse.fanout", "delivered_share"),
        ("baseline.subscription", "delivered_share"),
        Goal("value", ">=", 1.0),
    ),
    Figure(
        "5. server memory after fan-out",
        "MB",
        ("gatehouse.fanout", "server_memory_mb"),
        ("baseline.subscription", "server_memory_mb"),
    ),
    Figure(
        "5. server CPU per delivery",
        "us",
        ("gatehouse.fanout", "server_cpu_us_per_delivery"),
        ("baseline.subscription", "server_cpu_us_per_delivery"),
    ),
    Figure(
        "6. webhook deliveries/s, one worker",
        "1/s",
        ("gatehouse.webhooks", "per_s"),
        ("baseline.senders", "best"),
        Goal("ratio", ">=", 0.7),  # issue 17: 0.7 (it was 0.5)
    ),
    Figure(
        "6. (detail) the same burst from its first delivery written",
        "1/s",
        ("gatehouse.webhooks", "per_s_from_written"),
        ("baseline.senders", "best"),
    ),
    Figure(
        "6. (detail) against the durable floor: relay, lease, send, record",
        "1/s",
        ("gatehouse.webhooks", "per_s"),
        ("baseline.durable_sender", "per_s"),
    ),
    Figure("6. bare sender, best httpx", "1/s", ("baseline.senders", "httpx")),
    Figure("6. bare sender, best aiohttp", "1/s", ("baseline.senders", "aiohttp")),
    Figure("6. receiver capacity (client-bound)", "req/s", ("baseline.receiver", "rps")),
    Figure(
        "7. workflow executions/s, one worker, C=64",
        "1/s",
        ("gatehouse.workflows", "per_s"),
        ("baseline.workflows_direct", "per_s"),
        Goal("ratio", ">=", 0.5),
    ),
    Figure(
        "7. overhead per step, p50 at concurrency 1",
        "ms",
        ("gatehouse.workflows", "latency.step_overhead_ms.p50"),
        goal=Goal("value", "<=", 5),
    ),
    Figure(
        "7. (detail) execute to completed vs direct call, p50",
        "ms",
        ("gatehouse.workflows", "latency.workflow_ms.p50"),
        ("gatehouse.workflows", "latency.direct_ms.p50"),
    ),
    Figure(
        "7. (detail) execute committed to run started, p50",
        "ms",
        ("gatehouse.workflows", "latency.breakdown_ms_p50.pickup"),
    ),
    Figure(
        "7. (detail) SELECT 1 after the idle gap vs back to back, p50",
        "ms",
        ("gatehouse.workflows", "latency.wake_ms.after_gap"),
        ("gatehouse.workflows", "latency.wake_ms.back_to_back"),
    ),
    Figure(
        "7. (detail) worker CPU per execution",
        "us",
        ("gatehouse.workflows", "worker_cpu_us_per_execution"),
        ("baseline.workflows_direct", "cpu_us_per_call"),
    ),
    Figure(
        "8. server memory, 500 long-polls waiting (vs idle)",
        "MB",
        ("gatehouse.long_polls", "waiting.rss_mb"),
        ("gatehouse.long_polls", "idle.rss_mb"),
    ),
    Figure(
        "8. PostgreSQL connections, 500 long-polls waiting (vs idle)",
        "conns",
        ("gatehouse.long_polls", "waiting.pg_connections"),
        ("gatehouse.long_polls", "idle.pg_connections"),
    ),
    Figure(
        "8. busy PostgreSQL connections while 500 long-polls wait",
        "conns",
        ("gatehouse.long_polls", "waiting.pg_busy"),
        goal=Goal("value", "<=", 1),
    ),
    Figure(
        "8. (detail) long-poll answer from its approval sent, vs the approval's own answer, p50",
        "ms",
        ("gatehouse.long_polls", "wake_ms.p50"),
        ("gatehouse.long_polls", "approve_ms.p50"),
    ),
    Figure(
        "9. propose_action over MCP vs POST /actions",
        "req/s",
        ("gatehouse.mcp", "propose.rps"),
        ("gatehouse.mcp", "rest.rps"),
        Goal("ratio", ">=", 0.5),
    ),
    Figure(
        "9. (detail) the same over the 2025-06-18 transport",
        "req/s",
        ("gatehouse.mcp", "legacy.rps"),
        ("gatehouse.mcp", "rest.rps"),
    ),
    Figure(
        "9. propose_action over MCP, p99",
        "ms",
        ("gatehouse.mcp", "propose.latency_ms.p99"),
        ("gatehouse.mcp", "rest.latency_ms.p99"),
    ),
    Figure(
        "9. server CPU per MCP propose_action",
        "us",
        ("gatehouse.mcp", "propose.server_cpu_us_per_request"),
        ("gatehouse.mcp", "rest.server_cpu_us_per_request"),
    ),
    Figure("9. gateway overhead per forwarded call, p50", "ms", ("gatehouse.mcp", "gateway.overhead_ms.p50")),
    Figure(
        "9. (detail) gateway call vs direct upstream call, p50",
        "ms",
        ("gatehouse.mcp", "gateway.gateway_ms.p50"),
        ("gatehouse.mcp", "gateway.direct_ms.p50"),
    ),
    Figure("9. (detail) gateway overhead over the 2025-06-18 handshake, p50", "ms",
           ("gatehouse.mcp", "gateway.handshake.overhead_ms.p50")),
    Figure("10. audit export, 100,000 entries (NDJSON)", "1/s", ("gatehouse.audit", "export.entries_per_s")),
    Figure(
        "10. server memory growth while exporting 100,000 entries",
        "MB",
        ("gatehouse.audit", "export.rss_growth_mb"),
        goal=Goal("value", "<=", 20),
    ),
    Figure(
        "10. (detail) server memory at the export's peak (vs before)",
        "MB",
        ("gatehouse.audit", "export.rss_peak_mb"),
        ("gatehouse.audit", "export.rss_before_mb"),
    ),
    Figure(
        "10. (detail) server memory after the export (vs before)",
        "MB",
        ("gatehouse.audit", "export.rss_after_mb"),
        ("gatehouse.audit", "export.rss_before_mb"),
    ),
    Figure(
        "10. server CPU per POST /actions with its audit entry (vs without)",
        "us",
        ("gatehouse.audit", "propose_on.server_cpu_us_per_request"),
        ("gatehouse.audit", "propose_off.server_cpu_us_per_request"),
    ),
    Figure(
        "10. (detail) POST /actions with its audit entry (vs without)",
        "req/s",
        ("gatehouse.audit", "propose_on.rps"),
        ("gatehouse.audit", "propose_off.rps"),
    ),
    Figure(
        "11. backtest, 10,000 actions, 100 policies (vs the engine alone)",
        "1/s",
        ("gatehouse.backtest", "http.per_s"),
        ("gatehouse.backtest", "engine.per_s"),
        Goal("value", ">=", 10_000),
    ),
    Figure(
        "11. (detail) backtest wall time vs the engine's decisions",
        "ms",
        ("gatehouse.backtest", "http.ms"),
        ("gatehouse.backtest", "engine.ms"),
    ),
    Figure("11. (detail) server CPU per backtest", "ms", ("gatehouse.backtest", "http.server_cpu_ms")),
    Figure(
        "12. pendingApprovals to 10,000 dashboards, delivered share",
        "share",
        ("gatehouse.dashboards", "delivered_share"),
        goal=Goal("value", ">=", 1.0),
    ),
    Figure(
        "12. 10,000 dashboards, p99 from proposal answered",
        "ms",
        ("gatehouse.dashboards", "latency_ms.p99"),
        goal=Goal("value", "<", 250),
    ),
    Figure("12. (detail) 10,000 dashboards, p50", "ms", ("gatehouse.dashboards", "latency_ms.p50")),
    Figure(
        "12. server memory per open subscription",
        "KB",
        ("gatehouse.dashboards", "server_kb_per_subscription"),
        goal=Goal("value", "<", 50),
    ),
    Figure("12. server CPU per delivery", "us", ("gatehouse.dashboards", "server_cpu_us_per_delivery")),
    Figure(
        "12. (detail) server CPU share while proposals arrive", "cores", ("gatehouse.dashboards", "server_cpu_share")
    ),
    Figure(
        "error lines logged by serve and worker, whole run",
        "lines",
        (LOGGED_ERRORS, "errors"),
        goal=Goal("value", "<=", 0),
    ),
]


def dig(result: dict[str, Any] | None, path: str) -> float | None:
    """The number at a dotted path of one measurement's result, or None."""
    node: Any = result
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return float(node) if isinstance(node, int | float) else None


def _series(samples: Samples, metric: tuple[str, str] | None) -> list[float | None]:
    if metric is None:
        return []
    return [dig(result, metric[1]) for result in samples.get(metric[0], [])]


def _paired_ratios(values: list[float | None], baselines: list[float | None]) -> list[float]:
    return [v / b for v, b in zip(values, baselines, strict=False) if v is not None and b]


def summarise(figure: Figure, samples: Samples, notes: dict[str, str]) -> dict[str, Any]:
    """One results.json entry: medians with min/max over rounds, the ratio, the target and verdict."""
    values, baselines = _series(samples, figure.value), _series(samples, figure.baseline)
    value, base = spread(values), spread(baselines)
    ratios = _paired_ratios(values, baselines)
    ratio = round(statistics.median(ratios), 3) if ratios else None
    return {
        "name": figure.name,
        "unit": figure.unit,
        "value": value["median"],
        "min": value["min"],
        "max": value["max"],
        "baseline": base["median"],
        "baseline_min": base["min"],
        "baseline_max": base["max"],
        "ratio": ratio,
        "target": figure.goal.text() if figure.goal else None,
        "met": figure.goal.met(value["median"], ratio) if figure.goal else None,
        "rounds": sum(v is not None for v in values),
        "note": notes.get(figure.value[0]),
    }


def _num(value: float) -> str:
    """Readable at a glance: thousands separated, three significant digits below 100."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _cell(median: float | None, low: float | None, high: float | None) -> str:
    if median is None or low is None or high is None:
        return "-"
    return f"{_num(median)} ({_num(low)}..{_num(high)})" if low != high else _num(median)


def table(entries: list[dict[str, Any]]) -> str:
    """The one table the run prints: value and baseline as median (min..max) over rounds."""
    head = ("figure", "value (min..max)", "unit", "baseline (min..max)", "ratio", "target", "met")
    rows = [head]
    for e in entries:
        met = {True: "yes", False: "NO", None: "-"}[e["met"]]
        value = _cell(e["value"], e["min"], e["max"]) if e["value"] is not None else (e["note"] or "-")
        rows.append(
            (
                e["name"],
                value,
                e["unit"],
                _cell(e["baseline"], e["baseline_min"], e["baseline_max"]),
                "-" if e["ratio"] is None else f"{e['ratio']:.3g}",
                e["target"] or "-",
                met,
            )
        )
    widths = [min(60, max(len(str(row[i])) for row in rows)) for i in range(len(head))]
    lines = ["  ".join(str(cell)[:60].ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)
