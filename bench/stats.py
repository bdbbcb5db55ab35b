"""Small statistics used by the load generator and the harness (no numpy on purpose: tiny inputs)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile of already sorted values (q in 0..100); None when empty."""
    if not sorted_values:
        return None
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def latency_summary_ms(latencies_s: Sequence[float]) -> dict[str, float | None]:
    """p50/p90/p99/min/max/mean of latencies given in seconds, in milliseconds."""
    values = sorted(latencies_s)
    if not values:
        return {"p50": None, "p90": None, "p99": None, "min": None, "max": None, "mean": None}
    ms = [v * 1000 for v in values]
    return {
        "p50": round(percentile(ms, 50) or 0.0, 3),
        "p90": round(percentile(ms, 90) or 0.0, 3),
        "p99": round(percentile(ms, 99) or 0.0, 3),
        "min": round(ms[0], 3),
        "max": round(ms[-1], 3),
        "mean": round(statistics.fmean(ms), 3),
    }


def spread(values: Sequence[float | None]) -> dict[str, float | None]:
    """Median, min and max of one figure over rounds, ignoring rounds that produced nothing."""
    present = [v for v in values if v is not None]
    if not present:
        return {"median": None, "min": None, "max": None}
    return {"median": statistics.median(present), "min": min(present), "max": max(present)}
