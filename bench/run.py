"""Benchmark harness: Gatehouse against its own stack's floor, side by side, in one run.

    python -m bench.run [--quick] [--rounds N] [--only KEY,...] [--gatehouse [--gatehouse-url URL]
                        [--cli-cmd CMD] [--serve-cmd CMD] [--worker-cmd CMD]] [--out bench/results.json]

Starts each baseline (bench/baselines/) and, with --gatehouse, `gatehouse serve` (one uvicorn
process) and, for the fan-out, webhook and workflow figures, `gatehouse worker`; drives both sides
with the same load generator (bench/load.py, its own process); runs every measurement once per
round, the Gatehouse side and its baseline back to back in alternating order; prints one table of
medians (min..max) and writes results.json. Without --gatehouse only the baselines run and the Gatehouse rows say so.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import shlex
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

from bench import logwatch, measure
from bench.baselines.senders import SECRET
from bench.budget import FULL, QUICK, Budget
from bench.figures import FIGURES, LOGGED_ERRORS, Samples, summarise, table
from bench.gatehouse import GatehouseConfig, GatehouseSide, NotWired, engine_decisions
from bench.procs import BENCH_DIR, LOG_DIR, PYTHON, REPO_DIR, Service, free_port, uvicorn_cmd
from bench.profile import head as profile_head

PACKAGES = [
    "strawberry-graphql",
    "graphql-core",
    "starlette",
    "uvicorn",
    "uvloop",
    "httptools",
    "websockets",
    "asyncpg",
    "tortoise-orm",
    "redis",
    "hiredis",
    "httpx",
    "httpcore",
    "h11",
    "sniffio",
    "aiohttp",
    "orjson",
    "gatehouse",
]


@dataclass
class Step:
    """One measurement of one side; `run` returns raw numbers or raises."""

    key: str
    run: Callable[[], dict[str, Any]]


def start_baselines() -> dict[str, Service]:
    """The long-lived baseline servers (the subscription baseline is started fresh per round)."""
    specs = {
        "asyncpg_insert": "bench.baselines.asyncpg_insert:app",
        "strawberry_mutation": "bench.baselines.strawberry_mutation:app",
    }
    services: dict[str, Service] = {}
    try:
        for name, app in specs.items():
            port = free_port()
            services[name] = Service(f"baseline-{name}", uvicorn_cmd(app, port), port).start()
        port = free_port()
        receiver = [PYTHON, "-m", "bench.baselines.receiver", "--port", str(port), "--secret", SECRET]
        services["receiver"] = Service("receiver", receiver, port, "/count").start()
        port = free_port()  # figure 7's calls are not signed: a receiver that checks nothing, like Gatehouse's
        plain = [PYTHON, "-m", "bench.baselines.receiver", "--port", str(port)]
        services["plain_receiver"] = Service("receiver-plain", plain, port, "/count").start()
    except BaseException:
        stop_all(services)
        raise
    return services


def stop_all(services: dict[str, Service]) -> None:
    for service in services.values():
        service.stop()


def step_pairs(
    budget: Budget, services: dict[str, Service], side: GatehouseSide | None
) -> list[tuple[Step | None, Step | None]]:
    """(Gatehouse step, its baseline step) per figure, in the order they run; either may be absent."""

    def ours(name: str) -> Step | None:
        return None if side is None else Step(f"gatehouse.{name}", getattr(side, name))

    def floor(name: str, run: Callable[..., dict[str, Any]], *args: Any) -> Step:
        return Step(f"baseline.{name}", partial(run, *args, budget))

    receiver = services["receiver"]
    return [
        (ours("rest_propose"), floor("asyncpg_insert", measure.asyncpg_insert, services["asyncpg_insert"])),
        (
            ours("graphql_propose"),
            floor("strawberry_mutation", measure.strawberry_mutation, services["strawberry_mutation"]),
        ),
        (ours("get_action"), None),
        (ours("list_actions"), None),
        (Step("gatehouse.engine", partial(engine_decisions, budget)), None),  # pure: needs no server
        (ours("webhooks"), floor("senders", measure.senders, receiver)),
        (None, floor("durable_sender", measure.durable_sender, receiver)),
        (None, floor("receiver", measure.receiver_capacity, receiver) if budget.receiver_capacity else None),
        (ours("fanout"), floor("subscription", measure.subscription_baseline)),
        (ours("workflows"), floor("workflows_direct", measure.direct_calls, services["plain_receiver"])),
        (ours("long_polls"), None),
        (ours("mcp"), None),  # its baselines (POST /actions, the upstream called directly) run inside it
        (ours("audit"), None),  # its baseline (the proposal without its entry) runs inside it
        (ours("backtest"), None),  # its baseline (the engine alone over the same facts) runs inside it
        (ours("dashboards"), None),  # its targets are absolute (delivery, p99, KB per subscription)
    ]


class Rounds:
    """Runs the steps round after round and keeps every sample and every failure's reason."""

    def __init__(self, only: set[str]) -> None:
        self.only = only
        self.samples: Samples = {}
        self.notes: dict[str, str] = {}
        self.logged: list[str] = []  # error lines Gatehouse logged during any step (bench/logwatch.py)

    def _wanted(self, step: Step | None) -> bool:
        return step is not None and (not self.only or any(o in step.key for o in self.only))

    def run(self, pairs: list[tuple[Step | None, Step | None]], rounds: int) -> None:
        for number in range(rounds):
            for pair in pairs:
                ordered = pair if number % 2 == 0 else pair[::-1]
                for step in ordered:
                    if step is not None and self._wanted(step):
                        self.samples.setdefault(step.key, []).append(self._one(step, number))

    def _one(self, step: Step, number: int) -> dict[str, Any] | None:
        started, logs = time.perf_counter(), logwatch.offsets()
        try:
            result = self._watched(step, logs)
        except NotWired as exc:
            self.notes[step.key] = f"not wired: {exc}"
            return None
        except Exception as exc:  # one broken figure must not lose the others
            self.notes[step.key] = f"error: {exc}"[:300]
            LOG_DIR.mkdir(parents=True, exist_ok=True)
            with open(LOG_DIR / "harness-errors.log", "a") as log:
                log.write(f"round {number} {step.key}\n{traceback.format_exc()}\n")
            return None
        print(f"  round {number + 1}: {step.key} {time.perf_counter() - started:.1f}s", file=sys.stderr)
        return self._checked(step.key, result)

    def _watched(self, step: Step, logs: dict[str, int]) -> dict[str, Any]:
        """Run the step; the errors Gatehouse logged meanwhile are noted against it, whatever it returns."""
        try:
            return step.run()
        finally:
            errors = logwatch.errors_since(logs)
            if errors:
                self.logged.extend(errors)
                self.notes[f"{step.key} (logged errors)"] = f"{len(errors)} error lines; first: {errors[0]}"[:400]

    def logged_errors(self) -> dict[str, Any]:
        """The run's count of error lines, as one sample of the figure that wants none."""
        return {"errors": len(self.logged), "first": self.logged[0] if self.logged else None}

    def _checked(self, key: str, result: dict[str, Any]) -> dict[str, Any] | None:
        """Failed requests are noted; a run in which nothing succeeded gives no sample at all."""
        if not result.get("errors"):
            return result
        self.notes[key] = f"{result['errors']} failed requests; first: {result.get('first_error')}"[:300]
        return None if not result.get("requests") else result


def machine() -> dict[str, Any]:
    """What the numbers were taken on; load average shows how noisy the machine was."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        None,
    )
    return {
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "loadavg": os.getloadavg(),
    }


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    found["postgresql"] = _command_output(["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", "show server_version"])
    found["redis-server"] = _command_output(["redis-cli", "-h", "127.0.0.1", "info", "server"], "redis_version:")
    return found


def _command_output(cmd: list[str], prefix: str | None = None) -> str | None:
    try:
        out = subprocess.run(cmd, capture_output=True, timeout=10, check=True).stdout.decode()
    except (OSError, subprocess.SubprocessError):
        return None
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    if prefix is not None:
        lines = [line.removeprefix(prefix) for line in lines if line.startswith(prefix)]
    return lines[0] if lines else None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Gatehouse benchmark harness")
    parser.add_argument("--quick", action="store_true", help="short mode, well under a minute")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (at least 3 for the figures)")
    parser.add_argument("--only", default="", help="comma-separated substrings of measurement keys")
    parser.add_argument("--out", default=None, help="default bench/results.json, quick: bench/out/results-quick.json")
    parser.add_argument("--gatehouse", action="store_true", help="measure Gatehouse too (else baselines only)")
    parser.add_argument("--gatehouse-url", default=None, help="use a running server instead of starting one")
    parser.add_argument("--api-key", default=None, help="an existing key for figures 1-3 and 5")
    parser.add_argument("--cli-cmd", default=None, help="how to run the gatehouse CLI (default: venv script)")
    parser.add_argument("--serve-cmd", default=None, help="serve command; {port} is replaced")
    parser.add_argument("--worker-cmd", default=None)
    parser.add_argument("--no-profiles", action="store_true", help="skip the profiles after the figures (A/B runs)")
    return parser


def gatehouse_side(args: argparse.Namespace, budget: Budget) -> GatehouseSide | None:
    if not args.gatehouse:
        return None
    config = GatehouseConfig(base_url=args.gatehouse_url, api_key=args.api_key)
    if args.cli_cmd:
        config.cli = shlex.split(args.cli_cmd)
    if args.serve_cmd:
        config.serve_cmd = shlex.split(args.serve_cmd)
    if args.worker_cmd:
        config.worker_cmd = shlex.split(args.worker_cmd)
    return GatehouseSide(config, budget)


def profiles(side: GatehouseSide) -> dict[str, Any]:
    """The hottest paths' profiles (py-spy), after the figures so they never perturb them."""
    try:
        paths = side.profile()
    except Exception as exc:  # a missing profiler must not lose the figures
        return {"error": f"profile failed: {exc}"[:300]}
    return {path.stem: str(path.relative_to(REPO_DIR)) for path in paths}


def print_profiles(found: dict[str, Any]) -> None:
    for name, where in found.items():
        if name == "error":
            print(f"\n{where}")
            continue
        print(f"\n{name} ({where}):\n{profile_head(REPO_DIR / where)}")


def report(rounds: Rounds, budget: Budget, started: float, info: dict[str, Any], out: Path) -> None:
    """Print the table and write results.json."""
    if rounds.samples.keys() & {f.value[0] for f in FIGURES if f.value[0].startswith("gatehouse.")}:
        rounds.samples[LOGGED_ERRORS] = [rounds.logged_errors()]
        if rounds.logged:
            rounds.notes[LOGGED_ERRORS] = f"first: {rounds.logged[0]}"[:400]
    for figure in FIGURES:
        key = figure.value[0]
        if key.startswith("gatehouse.") and key not in rounds.samples:
            rounds.notes.setdefault(key, "not measured (run with --gatehouse)")
    entries = [summarise(figure, rounds.samples, rounds.notes) for figure in FIGURES]
    print(table(entries))
    print_profiles(info.get("profiles", {}))
    result = {
        **info,
        "figures": entries,
        "budget": asdict(budget),
        "elapsed_s": round(time.perf_counter() - started, 1),
        "details": {"notes": rounds.notes, "samples": rounds.samples},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {out} in {result['elapsed_s']}s", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    budget = QUICK if args.quick else FULL
    if args.rounds is not None:
        budget = Budget(**{**asdict(budget), "rounds": args.rounds})
    started = time.perf_counter()
    info: dict[str, Any] = {"machine": machine(), "versions": versions()}
    side = gatehouse_side(args, budget)
    if side is not None:
        side.start()  # first: it recreates the bench database the baselines create their table in
    try:
        services = start_baselines()
    except BaseException:
        if side is not None:
            side.stop()
        raise
    rounds = Rounds({o for o in args.only.split(",") if o})
    try:
        rounds.run(step_pairs(budget, services, side), budget.rounds)
        if side is not None and not args.no_profiles:
            info["profiles"] = profiles(side)
    finally:
        stop_all(services)
        if side is not None:
            side.stop()
    info["machine"]["loadavg_after"] = os.getloadavg()
    default_out = BENCH_DIR / "out" / "results-quick.json" if args.quick else BENCH_DIR / "results.json"
    report(rounds, budget, started, info, Path(args.out) if args.out else default_out)


if __name__ == "__main__":
    main()
