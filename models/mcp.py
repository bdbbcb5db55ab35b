"""MCP gateway rows: the upstream MCP servers an organization registers, and the calls made through them.

A server keeps the fingerprint of every tool schema it has admitted (``tool_fingerprints``): a tool
whose schema later differs is held back (hidden and refused) until an operator admits the new schema.
A call row is the gateway's record of one ``tools/call`` that became an action: it is claimed with a
conditional update before the upstream is called, so an approved call runs upstream at most once,
and its result is kept on the row for the agent to read.
"""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class McpServer(Model):
    """An upstream MCP server (Streamable HTTP), reached through the outgoing-URL guard."""

    id = fields.CharField(max_length=32, primary_key=True)
    organization: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Organization", related_name="mcp_servers", on_delete=fields.CASCADE
    )
    organization_id: str
    name = fields.CharField(max_length=64)
    url = fields.CharField(max_length=2048)
    credential_id = fields.CharField(max_length=32, null=True)
    tool_fingerprints: dict[str, str] = fields.JSONField(default=dict)  # type: ignore[assignment]
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "mcp_servers"
        unique_together = (("organization_id", "name"),)


class McpCall(Model):
    """One gateway tool call that became an action; its upstream result once it ran."""

    id = fields.CharField(max_length=32, primary_key=True)
    organization_id = fields.CharField(max_length=32)
    server: fields.ForeignKeyRelation[McpServer] = fields.ForeignKeyField(
        "models.McpServer", related_name="calls", on_delete=fields.CASCADE
    )
    server_id: str
    action_id = fields.CharField(max_length=32, unique=True)
    tool = fields.CharField(max_length=200)
    url = fields.CharField(max_length=2048, null=True)  # the server's URL when the call was proposed
    # the tool's input schema when a call that waits for a human was proposed: an approver's edit is checked against it
    input_schema: dict[str, Any] | None = fields.JSONField(null=True)  # type: ignore[assignment]
    status = fields.CharField(max_length=16, default="waiting")  # waiting | calling | completed | failed | dropped
    result: dict[str, Any] | None = fields.JSONField(null=True)  # type: ignore[assignment]
    error = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    claimed_at = fields.DatetimeField(null=True)  # when it went `calling` (resolvers/mcp/calls.py sweeps stale ones)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "mcp_calls"
        indexes = (("status", "created_at"),)
