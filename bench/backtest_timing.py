"""Figure 11: backtests. What the figure's organization holds, and its baseline: the engine alone.

The organization has 100 active policies (95 for unrelated action types, five that concern the
recorded actions: a params threshold, a target glob, a deny, an observe-mode glob, an actor rule)
and BENCH actions of four types with varied params. The draft tightens the threshold.

The baseline, in its own process: the same actions' facts and the same policies read from the
database beforehand, both policy sets compiled, then timed: two indexed decisions per action (today's
and the drafted set's status, as a backtest takes them), which is the engine's share of a backtest
with no reading, HTTP or JSON.

    python -m bench.backtest_timing --database-url DSN --org ORG_ID --replaces POLICY_ID
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any, Final

import asyncpg
import orjson

from resolvers.governance.engine import ActionFacts, CompiledPolicies, PolicySpec
from resolvers.governance.replay import Draft, apply_drafts
from resolvers.governance.rules import validate_rules

UNRELATED: Final = 95
PAY_RULE: Final = {"when": {"actionType": "bench_pay", "params": {"amount": {"gt": 1000}}}, "require": ["review"]}
DRAFT_RULES: Final = [{"when": {"actionType": "bench_pay", "params": {"amount": {"gt": 500}}}, "require": ["review"]}]
RELATED: Final = [
    ("enforce", [PAY_RULE]),
    ("enforce", [{"when": {"actionType": "bench_mail", "target": "*@external.example"}}]),
    ("enforce", [{"when": {"actionType": "bench_delete", "params": {"scope": "all"}}, "deny": True}]),
    ("observe", [{"when": {"actionType": "bench_*"}, "require": ["audit"]}]),
    ("enforce", [{"when": {"actor": {"kind": "human"}, "actionType": "bench_*"}}]),
]


def policy_bodies() -> list[dict[str, Any]]:
    """The figure's 100 policies as `POST /policy` bodies; the first concerns `bench_pay`."""
    related = [{"name": f"bench related {n}", "mode": mode, "rules": rules} for n, (mode, rules) in enumerate(RELATED)]
    unrelated = [{"name": f"bench unrelated {n}", "rules": [{"when": {"actionType": f"bench_other_{n}"}}]}
                 for n in range(UNRELATED)]
    return related + unrelated


def action_bodies(count: int) -> list[dict[str, Any]]:
    """`count` proposals over four types; amounts, targets and scopes vary so decisions do."""
    bodies = []
    for n in range(count):
        kind = ("bench_pay", "bench_mail", "bench_delete", "bench_read")[n % 4]
        actor = {"kind": "human" if n % 50 == 0 else "agent", "name": f"bot-{n % 7}"}
        params: dict[str, Any] = {"amount": (n * 37) % 2000, "scope": "all" if n % 9 == 0 else "one"}
        target = f"user{n % 13}@{'external' if n % 3 else 'internal'}.example"
        bodies.append({"type": kind, "actor": actor, "target": target, "params": params})
    return bodies


_FACTS = """SELECT type, actor_kind, actor_name, actor_provider, target, params, original_params, agent_id,
                   actor_verified FROM actions WHERE organization_id = $1"""
_POLICIES = """SELECT id, mode, rules FROM policies WHERE organization_id = $1 AND status = 'active'
               ORDER BY created_at, id"""


async def load(dsn: str, org: str) -> tuple[list[ActionFacts], list[PolicySpec]]:
    db = await asyncpg.connect(dsn)
    try:
        rows = await db.fetch(_FACTS, org)
        policies = await db.fetch(_POLICIES, org)
    finally:
        await db.close()
    facts = [ActionFacts(r["type"], r["actor_kind"], r["actor_name"], r["actor_provider"], r["target"],
                         orjson.loads(r["original_params"] or r["params"]), r["agent_id"], r["actor_verified"])
             for r in rows]
    return facts, [PolicySpec(p["id"], p["mode"], validate_rules(orjson.loads(p["rules"]))) for p in policies]


def timed(facts: list[ActionFacts], current: list[PolicySpec], replaces: str) -> dict[str, Any]:
    drafted = apply_drafts(current, [Draft(PolicySpec(replaces, "enforce", validate_rules(DRAFT_RULES)), replaces)],
                           frozenset())
    started = time.perf_counter()
    before, after = CompiledPolicies.build(current), CompiledPolicies.build(drafted)
    changed = sum(before.status(f) != after.status(f) for f in facts)
    seconds = time.perf_counter() - started
    return {"actions": len(facts), "changed": changed, "ms": round(seconds * 1000, 1),
            "per_s": round(len(facts) / seconds) if seconds else None}


def main() -> None:
    parser = argparse.ArgumentParser(description="figure 11's baseline: the engine alone over the same facts")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--org", required=True)
    parser.add_argument("--replaces", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    facts, policies = asyncio.run(load(args.database_url, args.org))
    runs = [timed(facts, policies, args.replaces) for _ in range(args.repeat)]
    json.dump(min(runs, key=lambda run: run["ms"]), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
