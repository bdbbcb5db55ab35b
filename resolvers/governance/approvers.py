"""Who may approve: rule references resolved to stored ids, and the keys a pending action waits for.

A rule's ``approvers`` may name API keys (``key_...``) and reviewer groups (by id or by name); when a
policy is written they are checked against the organization's rows and stored as ids, so renaming
a group never changes a rule. ``approvals`` may not exceed the keys the approvers hold (nor the
``escalateTo`` group's), else the rule could never be satisfied. When an action starts waiting (and
when it escalates) the eligible keys are resolved once and kept on the action: who may decide it
does not move under a reviewer's feet while it waits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from models.api_keys import ApiKey
from models.reviewers import ReviewerGroup
from resolvers.errors import Invalid


class Directory:
    """An organization's reviewer groups and live API keys, loaded once per check."""

    def __init__(self, groups: Iterable[ReviewerGroup], key_ids: Iterable[str]) -> None:
        self.groups = {g.id: g for g in groups}
        self.by_name = {g.name: g for g in self.groups.values()}
        self.key_ids = frozenset(key_ids)

    @classmethod
    async def load(cls, organization_id: str, conn: Any = None) -> Directory:
        """With `conn` (a transaction on PostgreSQL) the groups stay locked until it ends, so a group
        cannot be deleted or shrunk between this check and the policy naming it being stored."""
        query = ReviewerGroup.filter(organization_id=organization_id).order_by("id")  # one lock order
        if conn is not None and conn.capabilities.dialect == "postgres":
            query = query.select_for_update().using_db(conn)
        keys = await ApiKey.filter(organization_id=organization_id, revoked_at=None).values_list("id", flat=True)
        return cls(await query, [str(k) for k in keys])

    def group(self, ref: str) -> ReviewerGroup | None:
        return self.groups.get(ref) or self.by_name.get(ref)

    def members(self, refs: Iterable[str]) -> set[str]:
        """The keys `refs` (key ids and group ids) stand for."""
        keys: set[str] = set()
        for ref in refs:
            group = self.groups.get(ref)
            keys.update(group.members if group is not None else [ref])
        return keys


def _fail(path: str, message: str) -> Invalid:
    return Invalid(f"{path}: {message}", details={"path": path})


def _reference(directory: Directory, ref: str, path: str) -> str:
    if ref in directory.key_ids:
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
    """`approvals` distinct keys must exist among the approvers and in the escalation group."""
    needed = rule.get("approvals") or 1
    if rule.get("approvers"):
        size = len(directory.members(rule["approvers"]))
        if needed > size:
            raise _fail(f"{path}.approvals", f"{needed} approvals needed but the approvers hold only {size} key(s)")
    if rule.get("escalateTo"):
        size = len(directory.members([rule["escalateTo"]]))
        if needed > size:
            raise _fail(f"{path}.escalateTo", f"{needed} approvals needed but the group holds only {size} key(s)")


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


async def eligible_keys(organization_id: str, refs: Iterable[str]) -> list[str] | None:
    """The keys that may decide now, sorted; None when no approver is named (any approving key)."""
    refs = list(refs)
    if not refs:
        return None
    groups = await ReviewerGroup.filter(organization_id=organization_id, id__in=refs)
    return sorted(Directory(groups, ()).members(refs))
