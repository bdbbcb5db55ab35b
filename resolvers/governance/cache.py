"""The compiled policies of each organization, cached per process and dropped on every change.

Deciding an action must not load and compile policies each time. Each process keeps one
``CompiledPolicies`` per organization in ``services.extras``; a policy write publishes the
organization's id on POLICIES_CHANNEL after commit and every replica (this one included) drops its
entry. A generation counter keeps a compile that raced with a change from being stored, and a short
TTL bounds staleness should a bus message ever be lost. One compile per organization is in flight
at a time: when an entry expires under load, the concurrent proposals wait for that one instead of
each loading and compiling every policy again (32 compiles of 100 policies at once, every TTL).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Final

from models.governance import Policy
from resolvers.context import Services
from resolvers.governance.engine import CompiledPolicies, PolicySpec
from resolvers.governance.rules import validate_rules

POLICIES_CHANNEL: Final = "gatehouse:policies:changed"
TTL_SECONDS: Final = 30.0
MAX_ORGANIZATIONS: Final = 10_000
_EXTRAS_KEY: Final = "governance.policy_cache"


@dataclass(slots=True)
class PolicyCache:
    """org id -> (compiled policies, when compiled); see the module docstring."""

    entries: dict[str, tuple[CompiledPolicies, float]] = field(default_factory=dict)
    generations: dict[str, int] = field(default_factory=dict)
    loading: dict[str, asyncio.Future[CompiledPolicies]] = field(default_factory=dict)
    subscribed: bool = False

    def drop(self, organization_id: str) -> None:
        self.entries.pop(organization_id, None)
        self.loading.pop(organization_id, None)  # a load begun before the change must not serve after it
        self.generations[organization_id] = self.generations.get(organization_id, 0) + 1

    def forget_load(self, organization_id: str, done: asyncio.Future[CompiledPolicies]) -> None:
        if self.loading.get(organization_id) is done:  # not a newer load started after a drop
            del self.loading[organization_id]

    def on_message(self, _channel: str, message: bytes) -> None:
        self.drop(message.decode())


def specs_of(policies: list[Policy]) -> list[PolicySpec]:
    """Stored (already validated) policies as the engine sees them, oldest first."""
    ordered = sorted(policies, key=lambda p: (p.created_at, p.id))
    return [PolicySpec(p.id, p.mode, validate_rules(p.rules)) for p in ordered]  # type: ignore[arg-type]


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
    cache = await _cache(services)
    hit = cache.entries.get(organization_id)
    if hit is not None and time.monotonic() - hit[1] < TTL_SECONDS:
        return hit[0]
    loading = cache.loading.get(organization_id)
    if loading is None:
        loading = cache.loading[organization_id] = asyncio.ensure_future(_load(cache, organization_id))
        loading.add_done_callback(lambda done: cache.forget_load(organization_id, done))
    return await asyncio.shield(loading)  # one caller going away must not cancel the others' load


async def _load(cache: PolicyCache, organization_id: str) -> CompiledPolicies:
    generation = cache.generations.get(organization_id, 0)
    rows = await Policy.filter(organization_id=organization_id, status="active")
    compiled = CompiledPolicies.build(specs_of(rows))
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
