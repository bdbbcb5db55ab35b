"""Figure 6, paired: two worker variants drain the same burst in alternating order, round after round.

On a shared 2-core host one round of figure 6 moves by 20-30% against the next with the same code, so
two variants measured in separate runs cannot be told apart below that. Paired, each B round has an
A round beside it (the order flips every pair, so neither always runs first), and the ratio of the
two is what is compared: a variant's effect shows as pairs on one side of 1.

Variant A is the worker as configured; variant B is the same worker with extra environment, e.g. a
setting (`GATEHOUSE_WEBHOOK_CONCURRENCY=32`) or another checkout's code (`PYTHONPATH=/work/wt`, with
this one started as `PYTHONPATH=. python scripts/ab_figure6.py ...`).

Run: `python scripts/ab_figure6.py PAIRS 'NAME=VALUE[,NAME=VALUE]'` with PostgreSQL and Redis up.
Prints each round (deliveries/s, the worker's and PostgreSQL's CPU microseconds per delivery), then
each variant's median and the B/A ratios of the pairs, sorted.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.budget import FULL  # noqa: E402
from bench.gatehouse import GatehouseConfig, GatehouseSide  # noqa: E402
from bench.procs import Service  # noqa: E402


class PairedSide(GatehouseSide):
    """The harness's Gatehouse side whose workers start with the current variant's environment."""

    variant: dict[str, str] = {}

    def start_worker(self, env: dict[str, str] | None = None) -> Service:
        return super().start_worker({**(env or {}), **self.variant})


def main() -> None:
    pairs = int(sys.argv[1])
    extra = dict(item.split("=", 1) for item in sys.argv[2].split(",") if item)
    side = PairedSide(GatehouseConfig(), FULL)
    side.start()
    rates: dict[str, list[float]] = {"A": [], "B": []}
    try:
        side.webhooks()  # a warm-up round, not counted
        for n in range(pairs):
            for name in ("A", "B") if n % 2 == 0 else ("B", "A"):
                side.variant = extra if name == "B" else {}
                result: dict[str, Any] = side.webhooks()
                rates[name].append(result["per_s"])
                by_command = result["cpu_us_per_delivery_by_command"]
                print(n, name, result["per_s"], result["worker_cpu_us_per_delivery"], by_command.get("postgres"),
                      flush=True)
    finally:
        side.stop()
    ratios = sorted(round(b / a, 2) for a, b in zip(rates["A"], rates["B"], strict=True))
    print("A median", statistics.median(rates["A"]), "B median", statistics.median(rates["B"]))
    print("B/A by pair", ratios, "median", statistics.median(ratios))


if __name__ == "__main__":
    main()
