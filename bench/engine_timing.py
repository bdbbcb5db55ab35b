"""Figure 4: decision time of Gatehouse's pure policy engine for one action against N policies.

    python -m bench.engine_timing [--sizes 10,1000,10000] [--seconds 0.5]

No server and no I/O: the engine is compiled once per organization (and cached until a policy
changes), so the figure is `CompiledPolicies.decide` on a compiled index, with the compile time
reported beside it. The organization's policies are mostly unrelated to the action (one exact
action type each) plus five that concern it (a params condition, an actor condition, an observe-mode
rule, one requiring a check, one that does not hold), so every decision does real matching work.
The `globs` variant writes every unrelated rule's action type as a glob (`other_type_N_*`): the
index files globs by their literal start or end, and the figure compares 10,000 of them with 10
plain policies (target: within 2x).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Any

from resolvers.governance.engine import ActionFacts, CompiledPolicies, PolicySpec
from resolvers.governance.rules import validate_rules

FACTS = ActionFacts(
    action_type="send_email",
    actor_kind="agent",
    actor_name="marketing-bot",
    actor_provider="openai",
    target="user@example.com",
    params={"subject": "Welcome!", "body": "Thanks for signing up", "recipients": 1},
)
RELATED_RULES: list[tuple[str, dict[str, Any]]] = [
    ("enforce", {"when": {"actionType": "send_email", "params": {"recipients": {"gt": 100}}}, "deny": True}),
    ("enforce", {"when": {"actionType": "send_*", "actor": {"kind": "agent"}}, "require": ["content_review"]}),
    ("observe", {"when": {"actionType": "send_email"}, "require": ["audit"]}),
    ("enforce", {"when": {"actionType": ["send_email", "send_sms"], "target": "*@example.com"}, "approval": "auto"}),
    ("enforce", {"when": {"actionType": "send_email", "params": {"subject": {"matches": "^Urgent"}}}}),
]


def policies(count: int, globs: bool = False) -> list[PolicySpec]:
    """`count` active policies: `count - 5` unrelated ones, then the five that concern the action."""
    unrelated = max(0, count - len(RELATED_RULES))
    specs = []
    for number in range(unrelated):
        action_type = f"other_type_{number}_*" if globs else f"other_type_{number}"
        rules = validate_rules([{"when": {"actionType": action_type}, "require": ["review"]}])
        specs.append(PolicySpec(f"pol_unrelated_{number}", "enforce", rules))
    for number, (mode, rule) in enumerate(RELATED_RULES[: count - unrelated]):
        specs.append(PolicySpec(f"pol_related_{number}", mode, validate_rules([rule])))  # type: ignore[arg-type]
    return specs


def time_decide(compiled: CompiledPolicies, seconds: float) -> float:
    """Median microseconds per decision over batches of about 1 ms, for about `seconds`."""
    started = time.perf_counter()
    for _ in range(3):
        compiled.decide(FACTS)
    one_call = (time.perf_counter() - started) / 3
    batch = max(1, min(50, int(0.001 / max(one_call, 1e-9))))
    per_call: list[float] = []
    deadline = time.perf_counter() + seconds
    for _ in range(5000):
        started = time.perf_counter()
        for _ in range(batch):
            compiled.decide(FACTS)
        per_call.append((time.perf_counter() - started) / batch * 1e6)
        if time.perf_counter() > deadline and len(per_call) >= 5:
            break
    return round(statistics.median(per_call), 2)


def measure(size: int, globs: bool, seconds: float) -> dict[str, Any]:
    specs = policies(size, globs)
    started = time.perf_counter()
    compiled = CompiledPolicies.build(specs)
    build_ms = (time.perf_counter() - started) * 1000
    decision = compiled.decide(FACTS)
    return {"decide_us": time_decide(compiled, seconds), "build_ms": round(build_ms, 2), "status": decision.status}


def main() -> None:
    parser = argparse.ArgumentParser(description="policy engine decision time")
    parser.add_argument("--sizes", default="10,1000,10000")
    parser.add_argument("--seconds", type=float, default=0.5, help="timing budget per size")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    indexed = {str(n): measure(n, False, args.seconds) for n in sizes}
    globs = {str(n): measure(n, True, args.seconds) for n in sizes}
    result: dict[str, Any] = {str(n): indexed[str(n)]["decide_us"] for n in sizes}
    result["indexed"], result["globs"] = indexed, globs
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
