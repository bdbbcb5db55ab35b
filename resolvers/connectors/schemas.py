"""Input checked against an action's JSON Schema (or a type's config schema) with `jsonschema`,
failing as one 400 that names the offending field."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from resolvers.errors import Invalid


@lru_cache(maxsize=256)
def _validator(schema_json: bytes) -> Draft202012Validator:
    return Draft202012Validator(orjson.loads(schema_json), format_checker=Draft202012Validator.FORMAT_CHECKER)


def check(schema: dict[str, Any], value: Any, what: str) -> None:
    """Raise Invalid with the most relevant violation, as `what.path.to.field: problem`."""
    validator = _validator(orjson.dumps(schema, option=orjson.OPT_SORT_KEYS))
    error = best_match(validator.iter_errors(value))
    if error is None:
        return
    path = ".".join([what, *(str(part) for part in error.absolute_path)])
    raise Invalid(f"{path}: {error.message[:300]}")
