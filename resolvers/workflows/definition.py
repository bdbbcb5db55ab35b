"""A workflow definition checked on save, so that a run never meets a step it cannot understand.

Each step's envelope, its config (one JSON Schema per step type) and its templates are checked, and
a connector step's `input` against its action's input schema (found through an injected check, the
only part that needs the database). Values written as templates are only known at run time, so a
schema violation whose value is a `{{ }}` string is let through; the runner checks the rendered
config strictly (`check_config(..., templates=False)`). Every error names the step:
`steps[2] 'notify': config.url: ...`.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Awaitable, Callable, Iterable
from functools import lru_cache
from typing import Any, Final

import orjson
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from app.core.clock import parse_timestamp
from resolvers.connectors.kinds import schema
from resolvers.connectors.providers.http import check_headers
from resolvers.errors import Invalid, NotFound
from resolvers.validation import check_storable
from resolvers.workflows.templates import TemplateError, has_template, located_references

JSON = dict[str, Any]
ConnectorCheck = Callable[[str, str], Awaitable[dict[str, Any] | None]]

NAME_PATTERN: Final = r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$"
MAX_STEPS: Final = 50
HTTP_METHODS: Final = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
MESSAGE_LIMIT: Final = 300
_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}", re.ASCII)


def _text(max_length: int = 200) -> JSON:
    return {"type": "string", "minLength": 1, "maxLength": max_length}


def _integer(minimum: int, maximum: int, **extra: Any) -> JSON:
    return {"type": "integer", "minimum": minimum, "maximum": maximum, **extra}


HTTP_REQUEST_CONFIG: Final = schema({
    "method": {"enum": list(HTTP_METHODS), "default": "GET"},
    "url": {"type": "string", "minLength": 1, "maxLength": 8192, "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://"},
    "headers": {"type": "object", "additionalProperties": {"type": "string"}},
    "query": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
    "body": {},
    "credentialId": _text(),
    "timeoutMs": _integer(1, 300_000),
}, ["url"])

CONNECTOR_CONFIG: Final = schema({
    "connectorId": _text(),
    "action": _text(),
    "input": {"type": "object", "default": {}},
}, ["connectorId", "action"])

APPROVAL_CONFIG: Final = schema({
    "type": _text(),
    "target": {"type": "string", "maxLength": 10_000},
    "params": {"type": "object"},
    "actor": schema({"kind": _text(100), "name": _text(), "provider": _text()}, ["kind"],
                    default={"kind": "workflow"}),
    "reason": {"type": "string", "maxLength": 10_000},
}, ["type"])

DELAY_CONFIG: Final = schema({
    "seconds": {"type": "number", "minimum": 0, "maximum": 2_592_000},
    "until": {"type": "string", "format": "date-time"},
}, oneOf=[{"required": ["seconds"]}, {"required": ["until"]}])

CONFIG_SCHEMAS: Final[dict[str, JSON]] = {
    "approval": APPROVAL_CONFIG,
    "connector": CONNECTOR_CONFIG,
    "delay": DELAY_CONFIG,
    "http_request": HTTP_REQUEST_CONFIG,
}
STEP_TYPES: Final = tuple(sorted(CONFIG_SCHEMAS))

# Fields that choose what is called or which secret is sent: a run's data must not pick them.
LITERAL_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "connector": ("connectorId", "action"),
    "http_request": ("credentialId",),
}

RETRY_SCHEMA: Final = schema({
    "maxAttempts": _integer(1, 20, default=3),
    "backoffMs": _integer(10, 3_600_000, default=1000),
})

STEP_SCHEMA: Final = schema({
    "name": {"type": "string", "pattern": NAME_PATTERN},
    "type": {"type": "string"},
    "config": {"type": "object"},
    "retry": RETRY_SCHEMA,
    "timeoutMs": _integer(1, 3_600_000),
    "continueOnError": {"type": "boolean"},
}, ["name", "type", "config"])



# ------------------------------------------------------------------------------------ entry points


async def check_definition(definition: Any, check_connector: ConnectorCheck) -> JSON:
    """The definition normalised (defaults filled), or Invalid naming the step and field at fault."""
    plain = _plain(definition)
    check_storable(plain, "definition")
    steps = _steps_of(plain)
    names = [step.get("name") if isinstance(step, dict) else None for step in steps]
    checked: list[JSON] = []
    for index, step in enumerate(steps):
        checked.append(await _check_step(index, step, names, check_connector))
    return {"steps": checked}


def step_names(definition: Any) -> list[str]:
    """The names of the definition's steps, in order (steps without a string name are skipped)."""
    steps = definition.get("steps") if isinstance(definition, dict) else None
    if not isinstance(steps, list):
        return []
    return [step["name"] for step in steps if isinstance(step, dict) and isinstance(step.get("name"), str)]


def check_config(step_type: str, config: Any, *, templates: bool = True) -> JSON:
    """A step's config with its defaults, or Invalid (`config.field: ...`, no step prefix).

    With `templates` (on save) a violation by a `{{ }}` string is let through; without (a rendered
    config, before a run) every violation counts.
    """
    if step_type not in CONFIG_SCHEMAS:
        raise Invalid(f"type: unknown step type {step_type!r}; known types: {', '.join(STEP_TYPES)}")
    if not isinstance(config, dict):
        raise Invalid("config: must be an object")
    if step_type == "delay" and len({"seconds", "until"} & config.keys()) != 1:
        raise Invalid("config: give exactly one of seconds or until")
    _validate(CONFIG_SCHEMAS[step_type], config, "config", templates=templates)
    if step_type == "delay":
        _check_until(config.get("until"))
    return _with_defaults(CONFIG_SCHEMAS[step_type], config)


def _check_until(until: Any) -> None:
    """A delay's `until` must be a time the runner can wait for: the schema's date-time format lets
    '9999-12-31T23:59:59-01:00' through, which is in year 10000 in UTC (it crashed the runner)."""
    if isinstance(until, str) and not has_template(until):
        try:
            parse_timestamp(until)
        except ValueError as exc:
            raise Invalid(f"config.until: {exc}") from None


# ------------------------------------------------------------------------------------ the envelope


def _plain(definition: Any) -> Any:
    """A private copy as plain JSON: nothing shared with the caller, and nesting bounded by orjson."""
    try:
        return orjson.loads(orjson.dumps(definition))
    except (TypeError, orjson.JSONDecodeError):
        raise Invalid("definition must be plain JSON, nested at most 255 levels deep") from None


def _steps_of(definition: Any) -> list[Any]:
    if not isinstance(definition, dict):
        raise Invalid("definition must be an object with steps")
    extra = sorted(set(definition) - {"steps"})
    if extra:
        raise Invalid(f"definition: unknown field(s) {', '.join(map(repr, extra))}; only steps is allowed")
    steps = definition.get("steps")
    if not isinstance(steps, list) or not 1 <= len(steps) <= MAX_STEPS:
        raise Invalid(f"definition.steps must be a list of 1 to {MAX_STEPS} steps")
    return steps


def _name_of(index: int, step: Any) -> str:
    """The step's name, checked first: every later message is prefixed with it."""
    if not isinstance(step, dict):
        raise Invalid(f"steps[{index}]: must be an object with name, type and config")
    name = step.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise Invalid(f"steps[{index}]: name must be 1 to 64 letters, digits, '_' or '-', "
                      "starting with a letter or '_'")
    return name


async def _check_step(index: int, step: Any, names: list[Any], check_connector: ConnectorCheck) -> JSON:
    """One step checked, every error prefixed with `steps[i] 'name':`; `names` are all steps' names."""
    name = _name_of(index, step)
    first = names.index(name)
    prefix = f"steps[{index}] '{name}':"
    if first != index:
        raise Invalid(f"{prefix} name already used by steps[{first}]")
    try:
        return await _checked_step(step, names[:index], names, check_connector)
    except Invalid as exc:
        raise Invalid(f"{prefix} {exc.message}", details=exc.details) from None


async def _checked_step(step: JSON, earlier: list[Any], names: list[Any], check_connector: ConnectorCheck) -> JSON:
    _validate(STEP_SCHEMA, step, "", templates=False)
    config = check_config(step["type"], step["config"])
    _check_literal(step["type"], config)
    _check_headers(step["type"], config)
    _check_references(config, step["name"], earlier, names)
    if step["type"] == "connector":
        await _check_connector(config, check_connector)
    normalised = {**step, "config": config}
    if "retry" in step:
        normalised["retry"] = _with_defaults(RETRY_SCHEMA, step["retry"])
    return normalised


# ---------------------------------------------------------------------------- templates, connectors


def _check_literal(step_type: str, config: JSON) -> None:
    for field in LITERAL_FIELDS.get(step_type, ()):
        if has_template(config.get(field)):
            raise Invalid(f"config.{field}: must be written as is, not as a template")


def _check_headers(step_type: str, config: JSON) -> None:
    """An http_request step's header names, and the values written as they are, must be sendable:
    the call refuses any other (providers.http.check_headers), so the step failed on every run."""
    headers = config.get("headers") if step_type == "http_request" else None
    if isinstance(headers, dict):  # else absent, or one template for them all (checked at the call)
        check_headers({name: "" if has_template(value) else value for name, value in headers.items()},
                      "config.headers")


def _check_references(config: JSON, name: str, earlier: list[Any], names: list[Any]) -> None:
    """Templates parse, and read only input, trigger or a step that runs before this one."""
    try:
        found = located_references(config, "config")
    except TemplateError as exc:
        raise Invalid(str(exc)) from None
    for where, reference in found:
        step = reference.step
        if step is None or step in earlier:
            continue
        if step == name:
            why = "refers to its own step"
        elif step in names:
            why = f"refers to step {step!r}, which runs later"
        else:
            why = f"refers to unknown step {step!r}"
        raise Invalid(f"{where}: '{{{{ {reference.text} }}}}' {why}; only earlier steps can be read")


async def _check_connector(config: JSON, check_connector: ConnectorCheck) -> None:
    """The connector and action exist for the caller (checked by the injected callable); the input
    fits the action's input schema."""
    try:
        input_schema = await check_connector(config["connectorId"], config["action"])
    except (Invalid, NotFound) as exc:
        raise Invalid(exc.message, details=exc.details) from None
    if input_schema is not None:
        _validate(input_schema, config["input"], "config.input", templates=True)


# ------------------------------------------------------------------------------------ JSON Schema


@lru_cache(maxsize=256)
def _validator_of(schema_json: bytes) -> Draft202012Validator:
    return Draft202012Validator(orjson.loads(schema_json), format_checker=Draft202012Validator.FORMAT_CHECKER)


def _validator(schema_: JSON) -> Draft202012Validator:
    return _validator_of(orjson.dumps(schema_, option=orjson.OPT_SORT_KEYS))


def _validate(schema_: JSON, value: Any, what: str, *, templates: bool) -> None:
    """Invalid with the most relevant violation as `what.path: problem`; with `templates`, violations
    by `{{ }}` strings (known only at run time) do not count."""
    errors: Iterable[ValidationError] = _validator(schema_).iter_errors(value)
    if templates:
        errors = (error for error in errors if _counts(error))
    error = best_match(errors)
    if error is not None:
        raise Invalid(f"{_where(what, error.absolute_path)}: {_message(error)}")


def _counts(error: ValidationError) -> bool:
    """Whether a violation stands whatever its templates render to: not when the failing value is a
    template, nor when some branch of an anyOf/oneOf fails only because of templates."""
    if isinstance(error.instance, str) and "{{" in error.instance:
        return False
    if error.validator in ("anyOf", "oneOf") and error.context:
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        return all(any(_counts(sub) for sub in subs) for subs in branches.values())
    return True


def _where(what: str, path: Iterable[Any]) -> str:
    text = what
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "step"


_SAFE_ON_CONTAINERS: Final = frozenset({"required", "additionalProperties", "dependentRequired"})


def _message(error: ValidationError) -> str:
    """jsonschema's message, except where it would quote a whole object or list (a config may hold
    secrets): then the rule broken, without the value."""
    if not isinstance(error.instance, dict | list) or error.validator in _SAFE_ON_CONTAINERS:
        return str(error.message)[:MESSAGE_LIMIT]
    if error.validator == "type":
        return f"must be of type {error.validator_value!r}"
    if error.validator == "enum":
        return f"must be one of {orjson.dumps(error.validator_value).decode()[:MESSAGE_LIMIT]}"
    if error.validator == "anyOf":
        return "does not match any of the allowed shapes"
    if error.validator == "oneOf":
        return "must match exactly one of the allowed shapes"
    return f"breaks the rule {error.validator}: {orjson.dumps(error.validator_value).decode()[:MESSAGE_LIMIT]}"


def _with_defaults(schema_: JSON, value: Any) -> Any:
    """`value` with the schema's top-level property defaults added where absent (a copy)."""
    if not isinstance(value, dict):
        return value
    defaults = {key: copy.deepcopy(spec["default"]) for key, spec in schema_.get("properties", {}).items()
                if "default" in spec and key not in value}
    return {**value, **defaults}
