"""What other systems answer, made storable: PostgreSQL refuses U+0000 in text and in jsonb.

A webhook receiver, a connector's provider, a workflow step's endpoint or an upstream MCP server
may answer text or JSON holding a NUL character. Recording that answer as it came made the insert
fail, and the work was retried, or stuck, forever. Clients are refused such text
(resolvers/governance/inputs.py `unstorable`); a third party's answer is recorded with each NUL
replaced by U+FFFD, the replacement character, and nothing else changed.
"""

from __future__ import annotations

from typing import Any

NUL, REPLACEMENT = "\x00", "\ufffd"


def storable_text(text: str) -> str:
    """`text` with every NUL replaced."""
    return text.replace(NUL, REPLACEMENT) if NUL in text else text


def storable_json(value: Any) -> Any:
    """A JSON value (dicts, lists, scalars) with every NUL in its strings and keys replaced."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return {storable_text(key) if isinstance(key, str) else key: storable_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [storable_json(item) for item in value]
    return value
