"""Step-config templates: `{{ input.x }}`, `{{ steps.<name>.output.y }}`, `{{ trigger.z }}`.

A template is a dotted path and nothing else: it is parsed by one regular expression and looked up in
plain data, never evaluated, so no filter, call or operator can run code. A string that is exactly one
template becomes the referenced value with its JSON type kept; templates inside a longer string are
interpolated (strings as they are, anything else as compact JSON).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final

import orjson

from resolvers.errors import Invalid

ROOTS: Final = ("input", "steps", "trigger")
STEP_FIELDS: Final = ("output", "status")
SHOWN: Final = 100  # characters of a bad template quoted in an error

_TEMPLATE: Final = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_SEGMENT: Final = r"(?:[A-Za-z_][A-Za-z0-9_-]*|[0-9]+)"
_PATH: Final = re.compile(rf"(?:input|steps|trigger)(?:\.{_SEGMENT})*", re.ASCII)

Segment = str | int


class TemplateError(ValueError):
    """A template that is not a plain path (or an unclosed `{{`): refused, never evaluated."""


class MissingValue(LookupError):
    """A template's path leads nowhere in the scope; `path` is its text, e.g. `steps.a.output.id`."""

    def __init__(self, path: str) -> None:
        super().__init__(f"{path} is missing")
        self.path = path


@dataclass(frozen=True, slots=True)
class Reference:
    """One parsed template: `steps.fetch.output.id` is root `steps`, step `fetch`, path ("output", "id")."""

    root: str
    step: str | None
    path: tuple[Segment, ...]
    text: str


@dataclass(slots=True)
class Scope:
    """What templates may read: the execution's input, earlier steps' {"output", "status"}, the trigger."""

    input: Any = None
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    trigger: Any = None


@dataclass(frozen=True, slots=True)
class _Parsed:
    parts: tuple[str | Reference, ...]  # literal text and references, in order
    exact: Reference | None  # set when the whole string (but whitespace) is one template


def has_template(value: Any) -> bool:
    """Whether any string in `value` (walked through dicts and lists) contains `{{`."""
    if isinstance(value, str):
        return "{{" in value
    if isinstance(value, dict):
        return any(has_template(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(has_template(item) for item in value)
    return False


def references(value: Any, where: str = "") -> list[Reference]:
    """Every template reference in `value`; TemplateError (prefixed with where it is) on a bad one."""
    return [reference for _, reference in located_references(value, where)]


def located_references(value: Any, where: str = "") -> list[tuple[str, Reference]]:
    """Every reference with the place it was found (`config.headers.X`, `config.items[0]`)."""
    found: list[tuple[str, Reference]] = []
    _collect(value, where, found)
    return found


def render(value: Any, scope: Scope) -> Any:
    """`value` with its templates replaced from `scope`; MissingValue names a path that leads nowhere,
    Invalid a config whose templates fill in more than MAX_RENDERED_CHARS (counted as they are filled
    in, so the expansion stops there: 300 copies of a 200 KB input made a 60 MB step input before)."""
    return _render(value, scope, _Budget(MAX_RENDERED_CHARS))


class _Budget:
    """What a config's templates may still fill in, in characters (JSON for what is not text)."""

    __slots__ = ("left",)

    def __init__(self, left: int) -> None:
        self.left = left

    def spend(self, value: Any) -> Any:
        if isinstance(value, str):
            self.left -= len(value)
        else:  # an exact reference to a number, a flag or a whole object: what it will be sent as
            self.left -= len(_as_text(value)) if isinstance(value, dict | list) else 8
        if self.left < 0:
            raise Invalid(f"config: its templates fill in more than {MAX_RENDERED_CHARS:,} characters")
        return value


def _render(value: Any, scope: Scope, budget: _Budget) -> Any:
    if isinstance(value, str):
        return _render_string(value, scope, budget) if "{{" in value else value
    if isinstance(value, dict):
        return {key: _render(item, scope, budget) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_render(item, scope, budget) for item in value]
    return value


# ------------------------------------------------------------------------------------------ parsing


def _split(text: str) -> _Parsed:
    """Split a string into literal text and references."""
    parts: list[str | Reference] = []
    position = 0
    for match in _TEMPLATE.finditer(text):
        if match.start() > position:
            parts.append(text[position:match.start()])
        parts.append(_reference(match.group(1).strip(), match.group(0)))
        position = match.end()
    if "{{" in text[position:]:
        raise TemplateError(f"unclosed '{{{{' in {_shown(text[position:])}")
    if position < len(text):
        parts.append(text[position:])
    return _Parsed(tuple(parts), _exact(parts))


# The runner's: its configs repeat on every run. A definition checked on save is parsed uncached
# (`_parsed`): each refused or saved definition's strings, up to a body's size, stayed in this cache.
# Only strings up to CACHED_CHARS: the cache is bounded by count, and a config string may be as long as
# a definition (1 MB), so 4,096 long ones held gigabytes. Configs' templated strings are short.
_parse = lru_cache(maxsize=4096)(_split)
CACHED_CHARS: Final = 4096
MAX_RENDERED_CHARS: Final = 1_048_576


def _exact(parts: list[str | Reference]) -> Reference | None:
    found = [part for part in parts if isinstance(part, Reference)]
    literal_blank = all(part.isspace() for part in parts if isinstance(part, str))
    return found[0] if len(found) == 1 and literal_blank else None


def _reference(path: str, template: str) -> Reference:
    """A path's Reference, or TemplateError for anything that is not `root(.segment)*`."""
    if not _PATH.fullmatch(path):
        raise TemplateError(f"bad template {_shown(template)}")
    root, *rest = path.split(".")
    segments = tuple(int(part) if part.isdigit() else part for part in rest)
    if root != "steps":
        return Reference(root, None, segments, path)
    return _step_reference(segments, path, template)


def _step_reference(segments: tuple[Segment, ...], path: str, template: str) -> Reference:
    """`steps.<name>.output(.segment)*` or `steps.<name>.status`; nothing else of a step is readable."""
    if len(segments) < 2 or not isinstance(segments[0], str) or segments[1] not in STEP_FIELDS:
        raise TemplateError(f"bad template {_shown(template)}: use steps.<name>.output or steps.<name>.status")
    if segments[1] == "status" and len(segments) > 2:
        raise TemplateError(f"bad template {_shown(template)}: steps.<name>.status has no fields")
    return Reference("steps", segments[0], segments[1:], path)


def _shown(text: str) -> str:
    return repr(text if len(text) <= SHOWN else text[:SHOWN] + "...")


def _collect(value: Any, where: str, found: list[tuple[str, Reference]]) -> None:
    if isinstance(value, str):
        if "{{" in value:
            found.extend((where, part) for part in _parsed(value, where).parts if isinstance(part, Reference))
    elif isinstance(value, dict):
        for key, item in value.items():
            _collect(item, f"{where}.{key}" if where else str(key), found)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _collect(item, f"{where}[{index}]", found)


def _parsed(text: str, where: str) -> _Parsed:
    try:
        return _split(text)
    except TemplateError as exc:
        raise TemplateError(f"{where}: {exc}" if where else str(exc)) from None


# ---------------------------------------------------------------------------------------- rendering


def _render_string(text: str, scope: Scope, budget: _Budget) -> Any:
    parsed = _parse(text) if len(text) <= CACHED_CHARS else _split(text)
    if parsed.exact is not None:
        return budget.spend(_lookup(parsed.exact, scope))
    return "".join(part if isinstance(part, str) else budget.spend(_as_text(_lookup(part, scope)))
                   for part in parsed.parts)


def _as_text(value: Any) -> str:
    """Interpolated values: strings as they are, everything else as compact JSON (None is `null`)."""
    if isinstance(value, str):
        return value
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _lookup(reference: Reference, scope: Scope) -> Any:
    if reference.root == "steps":
        if reference.step not in scope.steps:
            raise MissingValue(reference.text)
        current: Any = scope.steps[reference.step]
    else:
        current = scope.input if reference.root == "input" else scope.trigger
    for segment in reference.path:
        current = _child(current, segment, reference)
    return current


def _child(current: Any, segment: Segment, reference: Reference) -> Any:
    """One step down: a dict key (an integer segment is read as its digits) or a list index."""
    if isinstance(current, dict) and str(segment) in current:
        return current[str(segment)]
    if isinstance(current, list) and isinstance(segment, int) and segment < len(current):
        return current[segment]
    raise MissingValue(reference.text)
