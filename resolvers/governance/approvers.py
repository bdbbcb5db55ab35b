"""Who may approve: rule references resolved to stored ids, and the keys a pending action waits for.

A rule's ``approvers`` may name API keys (``key_...``) and reviewer groups (by id or by name); when a
policy is written they are checked against the organization's rows and stored as ids, so renaming
a group never changes a rule. ``approvals`` may not exceed the keys among the approvers that can
decide (live, not bound to an agent, with approvals:write or admin), nor the ``escalateTo`` group's,
else the rule could never be satisfied; a key named directly must be able to decide. When an action
starts waiting (and when it escalates) the eligible keys are resolved once and kept on the action: who
may decide it does not move under a reviewer's feet while it waits. One change does reach a waiting
action: a key revoked since is dropped from it (`forget_revoked`), since it can never decide again, so
reads stop waiting for it and say when the quorum can no longer be reached.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from models.api_keys import ApiKey
from models.governance import Action
from models.reviewers import ReviewerGroup
from resolvers.access import decider_denial
from resolvers.context import Services
from resolvers.errors import Invalid
from resolvers.events.outbox import emit
from resolvers.governance.records import event_data, history_row
from resolvers.governance.review import summary


class Directory:
    """An organization's reviewer groups and live API keys, loaded once per check."""

    def __init__(self, groups: Iterable[ReviewerGroup], keys: Mapping[str, str | None]) -> None:
        self.groups = {g.id: g for g in groups}
        self.by_name = {g.name: g for g in self.groups.values()}
        self.keys = dict(keys)  # live key id -> None when it may decide, else why it never can

    @classmethod
    async def load(cls, organization_id: str, conn: Any = None) -> Directory:
        """With `conn` (a transaction on PostgreSQL) the groups stay locked until it ends, so a group
        cannot be deleted or shrunk between this check and the policy naming it being stored."""
        query = ReviewerGroup.filter(organization_id=organization_id).order_by("id")  # one lock order
        if conn is not None and conn.capabilities.dialect == "postgres":
            query = query.select_for_update().using_db(conn)
        return cls(await query, await deciding(organization_id))

    def group(self, ref: str) -> ReviewerGroup | None:
        return self.groups.get(ref) or self.by_name.get(ref)

    def members(self, refs: Iterable[str]) -> set[str]:
        """The keys `refs` (key ids and group ids) stand for."""
        keys: set[str] = set()
        for ref in refs:
            group = self.groups.get(ref)
            keys.update(group.members if group is not None else [ref])
        return keys

    def deciders(self, refs: Iterable[str]) -> set[str]:
        """The keys `refs` stand for that can decide: the only ones a quorum may count on."""
        return {key for key in self.members(refs) if key in self.keys and self.keys[key] is None}


KEY_ID_LENGTH = 32


async def deciding(organization_id: str, key_ids: Iterable[str] | None = None) -> dict[str, str | None]:
    """The organization's live keys (or those of `key_ids`), each mapped to None when it may approve and
    reject, else to why it never can."""
    query = ApiKey.filter(organization_id=organization_id, revoked_at=None)
    if key_ids is not None:  # an id longer than the column's is no key's (filtering by it fails)
        query = query.filter(id__in=[key_id for key_id in key_ids if len(key_id) <= KEY_ID_LENGTH])
    rows = await query.values_list("id", "scopes", "agent_id")
    return {str(key_id): decider_denial(scopes, agent_id) for key_id, scopes, agent_id in rows}


def _fail(path: str, message: str) -> Invalid:
    return Invalid(f"{path}: {message}", details={"path": path})


def _reference(directory: Directory, ref: str, path: str) -> str:
    if ref in directory.keys:
        denial = directory.keys[ref]
        if denial is not None:
            raise _fail(path, f"API key '{ref}' can never approve: {denial}")
        return ref
    group = directory.group(ref)
    if group is None:
        raise _fail(path, f"'{ref}' is neither an API key of this organization nor one of its reviewer groups")
    return group.id


def resolve_rule(directory: Directory, rule: dict[str, Any], path: str) -> dict[str, Any]:
    """The normalised rule with approver references as ids; Invalid naming the path otherwise."""
    out = dict(rule)
    if "approvers" in out:
        out["approvers"] = list(dict.fromkeys(
            _reference(directory, ref, f"{path}.approvers[{i}]") for i, ref in enumerate(out["approvers"])
        ))
    if "escalateTo" in out:
        group = directory.group(out["escalateTo"])
        if group is None:
            raise _fail(f"{path}.escalateTo", f"'{out['escalateTo']}' is not a reviewer group of this organization")
        out["escalateTo"] = group.id
    check_sizes(directory, out, path)
    return out


def check_sizes(directory: Directory, rule: Mapping[str, Any], path: str) -> None:
    """`approvals` distinct keys that can decide must exist among the approvers and in the escalation group."""
    needed = rule.get("approvals") or 1
    if rule.get("approvers"):
        size = len(directory.deciders(rule["approvers"]))
        if needed > size:
            raise _fail(f"{path}.approvals",
                        f"{needed} approvals needed but the approvers hold only {size} key(s) that can decide")
    if rule.get("escalateTo"):
        size = len(directory.deciders([rule["escalateTo"]]))
        if needed > size:
            raise _fail(f"{path}.escalateTo",
                        f"{needed} approvals needed but the group holds only {size} key(s) that can decide")


async def resolve_rules(
    organization_id: str, rules: list[dict[str, Any]], conn: Any = None
) -> list[dict[str, Any]]:
    """Every rule's approver references as ids, checked (rules without them are left as they are)."""
    if not any("approvers" in r or "escalateTo" in r for r in rules):
        return rules
    directory = await Directory.load(organization_id, conn)
    return [resolve_rule(directory, rule, f"rules[{i}]") for i, rule in enumerate(rules)]


def names_group(rule: Mapping[str, Any], group_id: str) -> bool:
    return group_id in (rule.get("approvers") or ()) or rule.get("escalateTo") == group_id


def references(rule: Mapping[str, Any]) -> list[str]:
    """The key and group ids a rule names: its approvers, then its escalation group."""
    escalate = [rule["escalateTo"]] if rule.get("escalateTo") else []
    return [*(rule.get("approvers") or ()), *escalate]


async def eligible_keys(organization_id: str, refs: Iterable[str]) -> list[str] | None:
    """The keys that may decide now, sorted; None when no approver is named (any approving key)."""
    refs = list(refs)
    if not refs:
        return None
    groups = await ReviewerGroup.filter(organization_id=organization_id, id__in=refs)
    return sorted(Directory(groups, {}).members(refs))


async def forget_revoked(services: Services, organization_id: str, key_id: str, conn: Any, by: str | None) -> int:
    """Drop a key being revoked (by `by`) from the eligible keys of its organization's waiting actions
    (in the revocation's transaction, rows locked so an escalation cannot write over it), each with an
    `approvers_changed` history entry and an `action.approvers_changed` event so live consoles see
    who is still awaited; returns how many.
    Approvals it gave stay counted: they were given while it could."""
    # Rows fetched, not values_list(), which drops FOR UPDATE; in id order, as the kill switch locks an
    # agent's pending actions, so a revocation and a kill switch at once cannot deadlock
    waiting = await (Action.filter(organization_id=organization_id, status="pending_approval", review__isnull=False)
                     .order_by("id").select_for_update().using_db(conn))
    changed = 0
    for action in waiting:
        review = action.review or {}
        eligible = review.get("eligible")
        if eligible and key_id in eligible:
            action.review = {**review, "eligible": [key for key in eligible if key != key_id]}
            await action.save(using_db=conn, update_fields=["review"])
            progress = summary(action) or {}
            change = {"approvers": action.review["eligible"], "revokedKeyId": key_id,
                      "waitingFor": progress.get("waitingFor"), "quorumReachable": progress.get("quorumReachable")}
            await history_row(action, "approvers_changed", by, change).save(using_db=conn)
            data = {**event_data(services, action), **change}
            await emit(services, organization_id, "action.approvers_changed", data)
            changed += 1
    return changed
