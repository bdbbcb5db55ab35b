"""The compiled policies of each organization, cached per process and dropped on every change.

Deciding an action must not load and compile policies each time. Each process keeps one
``CompiledPolicies`` per organization in ``services.extras``; a policy write publishes the
organization's id on POLICIES_CHANNEL after commit and every replica (this one included) drops its
entry. A generation counter keeps a compile that raced with a change from being stored, and a short
TTL bounds staleness should a bus message ever be lost. One compile per organization is in flight
at a time: when an entry expires under load, the concurrent proposals wait for that one instead of
each loading and compiling every policy again (32 compiles of 100 policies at once, every TTL).

Each compile also knows the exact versions it holds: its ``PolicySet`` (written once per compile,
``ON CONFLICT DO NOTHING``, its id a digest of its content) is what a proposal records on its action,
one short column on the proposal's single statement. A compile asked for inside a caller's
transaction is made for that caller alone and writes its set in that transaction, so a rollback can
never leave a cached set id whose row was never committed.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass, field
from typing import Any, Final

from app.core.after_commit import in_atomic
from models.governance import Policy, PolicySet
from resolvers.context import Services
from resolvers.governance.engine import CompiledPolicies, PolicySpec
from resolvers.governance.rules import validate_rules

POLICIES_CHANNEL: Final = "gatehouse:policies:changed"
TTL_SECONDS: Final = 30.0
MAX_ORGANIZATIONS: Final = 10_000
_EXTRAS_KEY: Final = "governance.policy_cache"


@dataclass(frozen=True, slots=True)
class InForce:
    """An organization's active policies compiled, and the id of the set of versions they are."""

    compiled: CompiledPolicies
    set_id: str


@dataclass(slots=True)
class PolicyCache:
    """org id -> (policies in force, when compiled); see the module docstring."""

    entries: dict[str, tuple[InForce, float]] = field(default_factory=dict)
    generations: dict[str, int] = field(default_factory=dict)
    loading: dict[str, asyncio.Future[InForce]] = field(default_factory=dict)
    subscribed: bool = False

    def drop(self, organization_id: str) -> None:
        self.entries.pop(organization_id, None)
        self.loading.pop(organization_id, None)  # a load begun before the change must not serve after it
        self.generations[organization_id] = self.generations.get(organization_id, 0) + 1

    def forget_load(self, organization_id: str, done: asyncio.Future[InForce]) -> None:
        if self.loading.get(organization_id) is done:  # not a newer load started after a drop
            del self.loading[organization_id]

    def on_message(self, _channel: str, message: bytes) -> None:
        self.drop(message.decode())


def in_policy_order(policies: list[Policy]) -> list[Policy]:
    """The order the engine evaluates policies in: oldest first."""
    return sorted(policies, key=lambda p: (p.created_at, p.id))


def specs_of(policies: list[Policy]) -> list[PolicySpec]:
    """Stored (already validated) policies as the engine sees them, oldest first."""
    return [PolicySpec(p.id, p.mode, validate_rules(p.rules, stored=True))  # type: ignore[arg-type]
            for p in in_policy_order(policies)]


def set_id_of(organization_id: str, versions: list[list[Any]]) -> str:
    """A digest of the organization and its versions in order: equal sets share one row."""
    text = organization_id + "|" + ";".join(f"{pid}:{number}" for pid, number in versions)
    return "pset_" + hashlib.sha256(text.encode()).hexdigest()[:32]


async def _cache(services: Services) -> PolicyCache:
    cache = services.extras.get(_EXTRAS_KEY)
    if cache is None:
        cache = services.extras[_EXTRAS_KEY] = PolicyCache()
    if not cache.subscribed:
        cache.subscribed = True
        await services.bus.subscribe(POLICIES_CHANNEL, cache.on_message)
    assert isinstance(cache, PolicyCache)
    return cache


async def compiled_policies(services: Services, organization_id: str) -> CompiledPolicies:
    """The organization's active policies, compiled; from the cache when fresh."""
    return (await in_force(services, organization_id)).compiled


async def in_force(services: Services, organization_id: str) -> InForce:
    """The organization's active policies, compiled, with their set of versions; cached when fresh."""
    if in_atomic():
        return await _compile(organization_id)
    cache = await _cache(services)
    hit = cache.entries.get(organization_id)
    if hit is not None and time.monotonic() - hit[1] < TTL_SECONDS:
        return hit[0]
    loading = cache.loading.get(organization_id)
    if loading is None:
        loading = cache.loading[organization_id] = asyncio.ensure_future(_load(cache, organization_id))
        loading.add_done_callback(lambda done: cache.forget_load(organization_id, done))
    return await asyncio.shield(loading)  # one caller going away must not cancel the others' load


async def _compile(organization_id: str) -> InForce:
    """Load, compile and make sure the set of versions is stored (once per distinct set)."""
    rows = in_policy_order(await Policy.filter(organization_id=organization_id, status="active"))
    versions = [[p.id, p.version] for p in rows]
    set_id = set_id_of(organization_id, versions)
    await PolicySet.bulk_create([PolicySet(id=set_id, organization_id=organization_id, versions=versions)],
                                ignore_conflicts=True)
    return InForce(CompiledPolicies.build(specs_of(rows)), set_id)


async def _load(cache: PolicyCache, organization_id: str) -> InForce:
    generation = cache.generations.get(organization_id, 0)
    compiled = await _compile(organization_id)
    if cache.generations.get(organization_id, 0) == generation:
        if len(cache.entries) >= MAX_ORGANIZATIONS:
            cache.entries.clear()  # crude bound on memory; entries are rebuilt on demand
        cache.entries[organization_id] = (compiled, time.monotonic())
    return compiled


async def policies_changed(services: Services, organization_id: str) -> None:
    """Drop the organization's entry here and on every replica (call after commit)."""
    cache = await _cache(services)
    cache.drop(organization_id)
    await services.bus.publish(POLICIES_CHANNEL, organization_id.encode())
