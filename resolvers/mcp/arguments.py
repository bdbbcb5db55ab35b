"""A gateway call's arguments against its tool's input schema: when the agent calls the tool, and
again when an approver edits them (edit-then-approve), so that an edit the tool refuses is a 400 to
the approver, with the call still waiting, instead of a call made upstream and recorded failed.

The schema an edit is checked against is the one the call was judged on when it was proposed (kept
on its call row): a tool whose schema changed since is held back when the call is forwarded anyway.
"""

from __future__ import annotations

from typing import Any

import jsonschema

from models.governance import Action
from models.mcp import McpCall
from resolvers.errors import Invalid

GATEWAY_TYPE_PREFIX = "mcp."  # catalogue.action_type: mcp.<server>.<tool>


def check_arguments(tool: str, schema: dict[str, Any], value: dict[str, Any], *, within: str | None = None) -> None:
    """Invalid unless `value` satisfies the tool's input `schema`, naming the offending path (under
    `within`, the name of the whole when it is not the call's own arguments)."""
    try:
        jsonschema.validate(value, schema)
    except jsonschema.ValidationError as exc:
        path = [str(p) for p in exc.absolute_path]
        where = "/".join([within, *path]) if within else "/".join(path) or "arguments"
        raise Invalid(f"{where}: {exc.message}"[:500]) from None
    except jsonschema.SchemaError:
        raise Invalid(f"tool {tool!r} has an invalid input schema upstream") from None


async def check_edited(action: Action, params: dict[str, Any], conn: Any = None) -> None:
    """An approver's edit of a gateway call, checked as the agent's arguments were. Actions that
    are no gateway call, and calls proposed before schemas were kept, are not checked here."""
    if not action.type.startswith(GATEWAY_TYPE_PREFIX):
        return
    call = await McpCall.filter(action_id=action.id).using_db(conn).only("tool", "input_schema").first()
    if call is not None and call.input_schema is not None:
        check_arguments(call.tool, call.input_schema, params, within="params")
