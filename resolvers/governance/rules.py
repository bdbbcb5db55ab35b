"""Validation of policy rules into frozen, normalised values the engine can trust.

Everything a policy author can get wrong is caught here, once, when the policy is written, with a
path naming the offending spot (``rules[0].when.params.amount.gtx``). The engine never re-checks.

Normalisation (what ``to_json`` gives back): ``actor.kind`` and ``{"actor": {"kind": ...}}`` both
become the nested form; ``params.amount`` in ``when`` moves under ``params``; a plain param value
becomes ``{"eq": value}``; ``approval`` and ``deny`` are always present. A param value that is an
object is read as an operator object; to compare with an object, write ``{"eq": {...}}``.
A ``null`` rule key, ``when`` field or actor field counts as absent; a param's ``null`` is ``{"eq": null}``.
``agentId`` matches the registered agent an action is counted for (names and globs, like the text
fields); ``actor.verified`` (true or false) matches whether a key bound to that agent proposed it, so
a policy can refuse self-declared actors (``{"actor": {"verified": false}}`` with ``deny``).
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from resolvers.governance.matching import (
    OPERATORS,
    compile_glob,
    is_finite_number,
    is_glob,
    lookup,
    operator_holds,
)

Approval = Literal["manual", "auto"]
Mode = Literal["enforce", "observe"]

APPROVALS: Final[tuple[Approval, ...]] = ("manual", "auto")
MODES: Final[tuple[Mode, ...]] = ("enforce", "observe")
RULE_FIELDS: Final = frozenset({
    "when", "require", "approval", "deny", "expiresIn", "mode", "grantFor",
    "approvals", "approvers", "allowEdit", "onExpire", "escalateTo",
})
DURATION_UNITS: Final = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
MAX_GRANT_SECONDS: Final = 30 * 86_400
# The longest a rule may hold an action for a human: 10 years (an escalation's second deadline doubles
# it). 10**12 seconds put the deadline past the year 9999 and every matching proposal was a 500.
MAX_EXPIRES_IN_SECONDS: Final = 10 * 365 * 86_400
ON_EXPIRE: Final = ("expire", "reject", "approve", "escalate")
MAX_APPROVALS: Final = 100
MAX_APPROVERS: Final = 100
TEXT_FIELDS: Final = ("actionType", "actor.kind", "actor.name", "actor.provider", "target", "agentId")
ACTOR_FIELDS: Final = ("kind", "name", "provider")
ACTOR_KEYS: Final = frozenset({*ACTOR_FIELDS, "verified"})
ORDERING_OPERATORS: Final = frozenset({"gt", "gte", "lt", "lte"})
MAX_REGEX_LENGTH: Final = 256


class RuleError(ValueError):
    """A rule is malformed; ``path`` says where (``rules[1].when.colour``), ``message`` says what."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclass(frozen=True)
class TextCondition:
    """One of ``actionType``/``actor.*``/``target``: exact names and globs, any of which may match."""

    patterns: tuple[str, ...]
    exact: frozenset[str] = field(init=False, repr=False, compare=False)
    globs: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "exact", frozenset(p for p in self.patterns if not is_glob(p)))
        object.__setattr__(self, "globs", tuple(compile_glob(p) for p in self.patterns if is_glob(p)))

    def matches(self, value: str | None) -> bool:
        """An absent fact (no provider, no target) never satisfies a condition on it."""
        if value is None:
            return False
        return value in self.exact or any(glob.match(value) for glob in self.globs)

    def to_json(self) -> str | list[str]:
        return self.patterns[0] if len(self.patterns) == 1 else list(self.patterns)


@dataclass(frozen=True)
class Operator:
    """One operator of a param condition; ``matches`` keeps its compiled regex beside the source."""

    name: str
    operand: Any = field(hash=False)
    argument: Any = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        argument = re.compile(self.operand) if self.name == "matches" else self.operand
        object.__setattr__(self, "argument", argument)

    def holds(self, value: Any) -> bool:
        return operator_holds(self.name, self.argument, value)


@dataclass(frozen=True)
class ParamCondition:
    """A dotted path into the action's params and the operators that must all hold there."""

    path: tuple[str, ...]
    operators: tuple[Operator, ...]

    def holds(self, params: Mapping[str, Any]) -> bool:
        value = lookup(params, self.path)
        return all(op.holds(value) for op in self.operators)

    def to_json(self) -> dict[str, Any]:
        return {op.name: copy.deepcopy(op.operand) for op in self.operators}


@dataclass(frozen=True)
class When:
    """All given conditions must hold; an empty ``When`` matches every action."""

    action_type: TextCondition | None = None
    actor_kind: TextCondition | None = None
    actor_name: TextCondition | None = None
    actor_provider: TextCondition | None = None
    target: TextCondition | None = None
    params: tuple[ParamCondition, ...] = ()
    agent_id: TextCondition | None = None
    actor_verified: bool | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.action_type:
            out["actionType"] = self.action_type.to_json()
        actor = dict(zip(ACTOR_FIELDS, (self.actor_kind, self.actor_name, self.actor_provider), strict=True))
        if any(actor.values()) or self.actor_verified is not None:
            out["actor"] = {key: cond.to_json() for key, cond in actor.items() if cond}
            if self.actor_verified is not None:
                out["actor"]["verified"] = self.actor_verified
        if self.target:
            out["target"] = self.target.to_json()
        if self.agent_id:
            out["agentId"] = self.agent_id.to_json()
        if self.params:
            out["params"] = {".".join(c.path): c.to_json() for c in self.params}
        return out


@dataclass(frozen=True)
class Rule:
    """A validated rule. ``mode`` None means "use the policy's mode"."""

    when: When = field(default_factory=When)
    require: tuple[str, ...] = ()
    approval: Approval = "manual"
    deny: bool = False
    expires_in: int | None = None
    mode: Mode | None = None
    grant_for: int | None = None  # seconds a human approval re-approves the same actor, type and target
    review: ReviewRule | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"when": self.when.to_json(), "require": list(self.require)}
        out |= {"approval": self.approval, "deny": self.deny}
        if self.expires_in is not None:
            out["expiresIn"] = self.expires_in
        if self.mode is not None:
            out["mode"] = self.mode
        if self.grant_for is not None:
            out["grantFor"] = duration_text(self.grant_for)
        if self.review is not None:
            out |= self.review.to_json()
        return out


@dataclass(frozen=True)
class ReviewRule:
    """How a rule wants humans to decide: ``approvals`` distinct keys among ``approvers`` (key ids,
    group ids, or group names until the policy resolver turns them into ids), ``allowEdit``, and
    what happens when nobody decides in time (``onExpire``, ``escalateTo``). Only keys the author
    gave are kept, so a rule without them normalises exactly as before."""

    approvals: int | None = None
    approvers: tuple[str, ...] = ()
    allow_edit: bool | None = None
    on_expire: str | None = None
    escalate_to: str | None = None

    @property
    def quorum(self) -> bool:
        """Separation of duties applies: the proposer may never approve."""
        return self.approvals is not None or bool(self.approvers)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.approvals is not None:
            out["approvals"] = self.approvals
        if self.approvers:
            out["approvers"] = list(self.approvers)
        if self.allow_edit is not None:
            out["allowEdit"] = self.allow_edit
        if self.on_expire is not None:
            out["onExpire"] = self.on_expire
        if self.escalate_to is not None:
            out["escalateTo"] = self.escalate_to
        return out


def validate_rules(rules: object, *, stored: bool = False) -> list[Rule]:
    """Turn a policy's ``rules`` JSON into Rules, or raise RuleError naming the first bad spot.

    ``stored``: rules read back from a row, which may predate the bound on ``expiresIn``
    (MAX_EXPIRES_IN_SECONDS); they still decide, and a proposal caps their deadline instead."""
    if not isinstance(rules, list | tuple):
        raise RuleError("rules", "must be a list of rule objects")
    return [_rule(raw, f"rules[{index}]", stored) for index, raw in enumerate(rules)]


def _rule(raw: object, path: str, stored: bool = False) -> Rule:
    fields = _object(raw, path, RULE_FIELDS)
    rule = Rule(
        when=_when(fields.get("when"), f"{path}.when"),
        require=_require(fields.get("require"), f"{path}.require"),
        approval=_choice(fields.get("approval"), APPROVALS, f"{path}.approval") or "manual",
        deny=_deny(fields.get("deny"), f"{path}.deny"),
        expires_in=_expires_in(fields.get("expiresIn"), f"{path}.expiresIn", bounded=not stored),
        mode=_choice(fields.get("mode"), MODES, f"{path}.mode"),
        grant_for=_grant_for(fields.get("grantFor"), f"{path}.grantFor"),
        review=_review(fields, path),
    )
    _check_review(rule, path)
    return rule


def _review(fields: dict[str, Any], path: str) -> ReviewRule | None:
    """The review keys of a rule, each checked on its own; None when the rule sets none."""
    review = ReviewRule(
        approvals=_approvals(fields.get("approvals"), f"{path}.approvals"),
        approvers=_approvers(fields.get("approvers"), f"{path}.approvers"),
        allow_edit=_optional_bool(fields.get("allowEdit"), f"{path}.allowEdit"),
        on_expire=_choice(fields.get("onExpire"), ON_EXPIRE, f"{path}.onExpire"),
        escalate_to=_optional_name(fields.get("escalateTo"), f"{path}.escalateTo"),
    )
    return review if review.to_json() else None


def _check_review(rule: Rule, path: str) -> None:
    """What the review keys mean together (sizes against groups are checked by the policy resolver)."""
    review = rule.review
    if review is None:
        return
    if review.quorum and rule.approval == "auto":
        raise RuleError(f"{path}.approval", "must be 'manual' when the rule sets approvals or approvers")
    if review.on_expire == "approve" and rule.require:
        raise RuleError(f"{path}.onExpire", "'approve' is refused on a rule that requires evidence")
    if review.on_expire == "escalate" and review.escalate_to is None:
        raise RuleError(f"{path}.escalateTo", "is required when onExpire is 'escalate' (a reviewer group)")
    if review.escalate_to is not None and review.on_expire != "escalate":
        raise RuleError(f"{path}.escalateTo", "is only allowed with onExpire: 'escalate'")


def _approvals(raw: object, path: str) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_APPROVALS:
        raise RuleError(path, f"must be a whole number from 1 to {MAX_APPROVALS}")
    return raw


def _approvers(raw: object, path: str) -> tuple[str, ...]:
    """Key ids, reviewer group ids or group names; a non-empty list without repeats."""
    if raw is None:
        return ()
    if not isinstance(raw, list | tuple) or not raw or len(raw) > MAX_APPROVERS:
        raise RuleError(path, f"must be a non-empty list of at most {MAX_APPROVERS} key ids or reviewer groups")
    return tuple(dict.fromkeys(_reference(item, f"{path}[{i}]") for i, item in enumerate(raw)))


def _reference(raw: object, path: str) -> str:
    name = _optional_name(raw, path)
    if name is None:
        raise RuleError(path, "must be a key id or a reviewer group's id or name")
    return name


def _optional_bool(raw: object, path: str) -> bool | None:
    if raw is not None and not isinstance(raw, bool):
        raise RuleError(path, "must be true or false")
    return raw


def _optional_name(raw: object, path: str) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw or len(raw) > 200 or "\x00" in raw:
        raise RuleError(path, "must be a non-empty string of at most 200 characters")
    return raw


def _object(raw: object, path: str, allowed: frozenset[str] | None = None) -> dict[str, Any]:
    """A JSON object with string keys; unknown keys are errors when ``allowed`` is given."""
    if not isinstance(raw, Mapping):
        raise RuleError(path, "must be an object")
    for key in raw:
        if not isinstance(key, str):
            raise RuleError(path, f"keys must be strings, got {key!r}")
        if allowed is not None and key not in allowed:
            raise RuleError(f"{path}.{key}", "unknown field")
    return dict(raw)


def _require(raw: object, path: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list | tuple):
        raise RuleError(path, "must be a list of check names")
    return tuple(dict.fromkeys(_name(item, f"{path}[{i}]") for i, item in enumerate(raw)))


def _name(raw: object, path: str) -> str:
    if not isinstance(raw, str) or not raw:
        raise RuleError(path, "must be a non-empty string")
    return raw


def _choice(raw: object, allowed: tuple[Any, ...], path: str) -> Any:
    if raw is not None and raw not in allowed:
        raise RuleError(path, f"must be one of {', '.join(map(repr, allowed))}")
    return raw


def _deny(raw: object, path: str) -> bool:
    if raw is not None and not isinstance(raw, bool):
        raise RuleError(path, "must be true or false")
    return bool(raw)


def _expires_in(raw: object, path: str, bounded: bool = True) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or raw <= 0 or (bounded and raw > MAX_EXPIRES_IN_SECONDS):
        raise RuleError(path, f"must be a positive whole number of seconds, at most {MAX_EXPIRES_IN_SECONDS} "
                              "(10 years)")
    return raw


def _grant_for(raw: object, path: str) -> int | None:
    """A duration: `10m`, `2h`, `1d`, `90s` or whole seconds; positive, at most 30 days."""
    if raw is None:
        return None
    seconds: int | None = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        seconds = raw
    elif isinstance(raw, str) and (found := re.fullmatch(r"([0-9]{1,7})([smhd])", raw)):
        seconds = int(found.group(1)) * DURATION_UNITS[found.group(2)]
    if seconds is None or not 0 < seconds <= MAX_GRANT_SECONDS:
        raise RuleError(path, "must be a duration such as 90s, 10m, 2h or 1d (at most 30d)")
    return seconds


def duration_text(seconds: int) -> str:
    """Seconds in the largest unit that divides them: 600 -> `10m`."""
    for unit, size in DURATION_UNITS.items():
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _when(raw: object, path: str) -> When:
    if raw is None:
        return When()
    texts: dict[str, TextCondition] = {}
    params: dict[tuple[str, ...], ParamCondition] = {}
    flags: dict[str, bool] = {}
    for key, value in _object(raw, path).items():
        _when_entry(key, value, f"{path}.{key}", texts, params, flags)
    return When(
        action_type=texts.get("actionType"),
        actor_kind=texts.get("actor.kind"),
        actor_name=texts.get("actor.name"),
        actor_provider=texts.get("actor.provider"),
        target=texts.get("target"),
        params=tuple(params.values()),
        agent_id=texts.get("agentId"),
        actor_verified=flags.get("actor.verified"),
    )


def _when_entry(
    key: str,
    value: object,
    path: str,
    texts: dict[str, TextCondition],
    params: dict[tuple[str, ...], ParamCondition],
    flags: dict[str, bool],
) -> None:
    """Route one ``when`` key to the text or param conditions it adds (a param's null means eq null)."""
    if value is None and not key.startswith("params."):
        return
    if key in TEXT_FIELDS:
        _add_text(key, value, path, texts)
    elif key == "actor.verified":
        _add_flag(key, value, path, flags)
    elif key == "actor":
        for actor_key, actor_value in _object(value, path, ACTOR_KEYS).items():
            if actor_value is None:
                continue
            if actor_key == "verified":
                _add_flag("actor.verified", actor_value, f"{path}.verified", flags)
            else:
                _add_text(f"actor.{actor_key}", actor_value, f"{path}.{actor_key}", texts)
    elif key == "params":
        for param_key, spec in _object(value, path).items():
            _add_param(param_key, spec, f"{path}.{param_key}", params)
    elif key.startswith("params."):
        _add_param(key.removeprefix("params."), value, path, params)
    else:
        raise RuleError(path, "unknown field")


def _add_text(name: str, raw: object, path: str, texts: dict[str, TextCondition]) -> None:
    if name in texts:
        raise RuleError(path, f"'{name}' is given twice")
    texts[name] = _text(raw, path)


def _add_flag(name: str, raw: object, path: str, flags: dict[str, bool]) -> None:
    if name in flags:
        raise RuleError(path, f"'{name}' is given twice")
    if not isinstance(raw, bool):
        raise RuleError(path, "must be true or false")
    flags[name] = raw


def agent_ids_named(rules: list[Rule]) -> set[str]:
    """The exact agent ids the rules' ``agentId`` conditions name (globs name no one in particular)."""
    return {p for rule in rules if rule.when.agent_id for p in rule.when.agent_id.exact}


def _text(raw: object, path: str) -> TextCondition:
    """An exact name, a glob, or a non-empty list of those."""
    if isinstance(raw, str):
        return TextCondition((_name(raw, path),))
    if not isinstance(raw, list | tuple) or not raw:
        raise RuleError(path, "must be a string or a non-empty list of strings")
    return TextCondition(tuple(dict.fromkeys(_name(item, f"{path}[{i}]") for i, item in enumerate(raw))))


def _add_param(key: str, spec: object, path: str, params: dict[tuple[str, ...], ParamCondition]) -> None:
    segments = tuple(key.split("."))
    if not all(segments):
        raise RuleError(path, "a param path is dot-separated names, none of them empty")
    if segments in params:
        raise RuleError(path, f"param '{key}' is given twice")
    params[segments] = ParamCondition(segments, _operators(spec, path))


def _operators(spec: object, path: str) -> tuple[Operator, ...]:
    """A plain value means ``eq``; an object is an operator object whose operators must all hold."""
    if not isinstance(spec, Mapping):
        return (Operator("eq", _json_value(spec, path)),)
    if not spec:
        raise RuleError(path, "an operator object needs at least one operator")
    return tuple(_operator(name, operand, f"{path}.{name}") for name, operand in spec.items())


def _operator(name: object, operand: object, path: str) -> Operator:
    if name not in OPERATORS:
        raise RuleError(path, f"unknown operator '{name}'")
    if name in ORDERING_OPERATORS and not is_finite_number(operand):
        raise RuleError(path, "must be a number")
    if name == "in" and not isinstance(operand, list | tuple):
        raise RuleError(path, "must be a list")
    if name == "matches":
        _check_regex(operand, path)
    return Operator(str(name), _json_value(operand, path))


def _check_regex(operand: object, path: str) -> None:
    """Bounded length keeps authors from writing huge patterns; it does not rule out backtracking."""
    if not isinstance(operand, str):
        raise RuleError(path, "must be a regular expression string")
    if len(operand) > MAX_REGEX_LENGTH:
        raise RuleError(path, f"regular expression longer than {MAX_REGEX_LENGTH} characters")
    try:
        re.compile(operand)
    except re.error as exc:
        raise RuleError(path, f"invalid regular expression: {exc}") from None


def _json_value(raw: object, path: str) -> Any:
    """A private deep copy of a JSON value, so later changes to the input cannot alter the rule."""
    if raw is None or isinstance(raw, str | bool | int):
        return raw
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise RuleError(path, "numbers must be finite")
        return raw
    if isinstance(raw, list | tuple):
        return [_json_value(item, f"{path}[{i}]") for i, item in enumerate(raw)]
    if isinstance(raw, Mapping):
        return {key: _json_value(value, f"{path}.{key}") for key, value in _object(raw, path).items()}
    raise RuleError(path, f"not a JSON value: {type(raw).__name__}")
