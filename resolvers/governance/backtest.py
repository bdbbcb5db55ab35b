"""Backtests: recorded actions replayed through today's policies and through draft policies.

Nothing is stored. The window (a time range, optionally one action type) may hold at most
MAX_ACTIONS actions of the caller's organization, counted before any replay; its actions are read in
keyset batches of only the columns the engine looks at, and both policy sets are compiled once
(replay.py). Scopes: policies:read and actions:read (it reads recorded actions' params).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, field_validator
from tortoise.expressions import Q

from app.core.clock import in_utc
from models.governance import Action, Policy
from resolvers.access import require
from resolvers.context import Context
from resolvers.errors import Invalid
from resolvers.governance.cache import specs_of
from resolvers.governance.engine import PolicySpec
from resolvers.governance.explanations import FACT_COLUMNS, facts_of_row
from resolvers.governance.inputs import PolicyIn, parse
from resolvers.governance.replay import Change, Draft, Replay, apply_drafts
from resolvers.governance.rules import RuleError, validate_rules

MAX_ACTIONS: Final = 100_000
BATCH: Final = 5_000
STATUSES: Final = ("approved", "pending_approval", "rejected")


class DraftIn(PolicyIn):
    """A draft policy; with ``replaces`` it stands in for that current policy (archived: removes it)."""

    replaces: str | None = Field(None, min_length=1, max_length=64)
    rules: list[Any] | None = Field(None, max_length=500)  # type: ignore[assignment]  # archived: may be left out


class BacktestIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    policies: list[DraftIn] = Field(default_factory=list, max_length=500)
    remove: list[str] = Field(default_factory=list, max_length=1000)
    from_: datetime | None = Field(None, alias="from")
    to: datetime | None = None
    type: str | None = Field(None, min_length=1, max_length=200)
    maxChanges: int = Field(1000, ge=0, le=10_000)

    @field_validator("from_", "to")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        """In UTC (a time without an offset is UTC, as everywhere in the API); one outside the years
        1 to 9999 there is refused (`in_utc`)."""
        return in_utc(value) if value is not None else None


@dataclass(frozen=True, slots=True)
class BacktestResult:
    actions: int
    replay: Replay
    drafted_ids: frozenset[str]  # policy ids whose rules come from a draft (replaced or added)

    def by_draft(self, change: Change) -> bool:
        """Whether the rule responsible for `change` is a draft's (a rule the drafts added or rewrote)."""
        return change.side == "after" and change.policy_id in self.drafted_ids


async def backtest(ctx: Context, data: Any) -> BacktestResult:
    """Counts per decision before and after the drafts, and the actions whose decision changes."""
    require(ctx, "policies:read")
    require(ctx, "actions:read")
    spec = parse(BacktestIn, data)
    if spec.from_ is not None and spec.to is not None and spec.from_ >= spec.to:
        raise Invalid("from: must be before `to`", details={"path": "from"})
    current = specs_of(await Policy.filter(organization_id=ctx.organization_id, status="active"))
    drafts = _drafts(spec, {p.id for p in current})
    replay = Replay.of(current, apply_drafts(current, drafts, frozenset(spec.remove)), spec.maxChanges)
    query = _window(ctx, spec)
    count = await query.count()
    if count > MAX_ACTIONS:
        raise Invalid(f"window: {count} actions, more than {MAX_ACTIONS:,}; narrow `from`/`to` or give `type`",
                      details={"path": "window", "actions": count})
    replayed = 0
    async for action_id, values in _facts(query):
        replay.add(action_id, facts_of_row(values))
        replayed += 1
    return BacktestResult(replayed, replay, frozenset(d.policy.id for d in drafts))


def _drafts(spec: BacktestIn, current_ids: set[str]) -> list[Draft]:
    """Each draft validated as a policy would be, errors naming `policies[i]...`; `replaces` and
    `remove` must name active policies of the caller's organization, each at most once."""
    for index, policy_id in enumerate(spec.remove):
        if policy_id not in current_ids:
            raise Invalid(f"remove[{index}]: no active policy {policy_id!r}", details={"path": f"remove[{index}]"})
    seen: set[str] = set(spec.remove)
    drafts = []
    for index, draft in enumerate(spec.policies):
        path = f"policies[{index}]"
        if draft.replaces is not None:
            if draft.replaces not in current_ids or draft.replaces in seen:
                raise Invalid(f"{path}.replaces: no active policy {draft.replaces!r} left to replace",
                              details={"path": f"{path}.replaces"})
            seen.add(draft.replaces)
        policy_id = draft.replaces or f"draft_{index}"
        if draft.rules is None and draft.status == "active":
            raise Invalid(f"{path}.rules: an active draft needs its rules", details={"path": f"{path}.rules"})
        drafts.append(Draft(PolicySpec(policy_id, draft.mode, _rules(draft.rules or [], path)), draft.replaces,
                            draft.status == "active"))
    return drafts


def _rules(raw: list[Any], path: str) -> list[Any]:
    try:
        return validate_rules(raw)
    except RuleError as err:
        raise Invalid(f"{path}.{err.path}: {err.message}", details={"path": f"{path}.{err.path}"}) from None


def _window(ctx: Context, spec: BacktestIn) -> Any:
    query = Action.filter(organization_id=ctx.organization_id)
    if spec.from_ is not None:
        query = query.filter(created_at__gte=spec.from_)
    if spec.to is not None:
        query = query.filter(created_at__lt=spec.to)
    if spec.type is not None:
        query = query.filter(type=spec.type)
    return query


async def _facts(query: Any) -> AsyncIterator[tuple[str, tuple[Any, ...]]]:
    """(id, FACT_COLUMNS values) of every action of `query`, oldest first, BATCH rows at a time on the
    (organization, created_at, id) index: bounded memory whatever the window."""
    after: tuple[datetime, str] | None = None
    while True:
        page = query if after is None else query.filter(
            Q(created_at__gt=after[0]) | Q(created_at=after[0], id__gt=after[1]))
        rows = await page.order_by("created_at", "id").limit(BATCH).values_list("id", "created_at", *FACT_COLUMNS)
        for row in rows:
            yield row[0], tuple(row[2:])
        if len(rows) < BATCH:
            return
        after = (rows[-1][1], rows[-1][0])

