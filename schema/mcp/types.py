"""GraphQL types: upstream MCP servers and their held-back tools."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from models.mcp import McpServer as McpServerRow
from schema.node import Node


@strawberry.type(description="An upstream MCP server the gateway offers at /mcp/gateways/{name}.")
class McpServer(Node):
    id: strawberry.ID = strawberry.field(description="The server's id (`mcp_...`).")
    name: str = strawberry.field(description="Its name: in action types `mcp.<name>.<tool>` and the gateway path.")
    url: str = strawberry.field(description="Its Streamable HTTP URL.")
    credential_id: strawberry.ID | None = strawberry.field(description="The credential for its auth headers.")
    gateway_path: str = strawberry.field(description="Where agents connect: /mcp/gateways/{name}.")
    admitted_tools: list[str] = strawberry.field(description="Tools whose schema is pinned (admitted).")
    created_at: datetime = strawberry.field(description="When it was registered.")
    updated_at: datetime = strawberry.field(description="When it last changed.")

    @classmethod
    def from_row(cls, row: McpServerRow) -> McpServer:
        return cls(
            id=strawberry.ID(row.id), name=row.name, url=row.url,
            credential_id=strawberry.ID(row.credential_id) if row.credential_id else None,
            gateway_path=f"/mcp/gateways/{row.name}", admitted_tools=sorted(row.tool_fingerprints),
            created_at=row.created_at, updated_at=row.updated_at,
        )


@strawberry.type(description="A tool whose schema changed since it was admitted: hidden and refused until admitted.")
class HeldTool:
    name: str = strawberry.field(description="The tool's name.")
    fingerprint: str = strawberry.field(description="The fingerprint of its current schema.")
    admitted_fingerprint: str | None = strawberry.field(description="The fingerprint that was admitted.")

    @classmethod
    def from_dict(cls, held: dict[str, Any]) -> HeldTool:
        return cls(name=held["name"], fingerprint=held["fingerprint"],
                   admitted_fingerprint=held["admittedFingerprint"])


@strawberry.input(description="The fields of an MCP server to set; on update, those left out keep their value.")
class McpServerInput:
    name: str | None = strawberry.field(default=strawberry.UNSET, description="Lowercase letters, digits, _ and -.")
    url: str | None = strawberry.field(default=strawberry.UNSET, description="Its Streamable HTTP URL (checked by "
                                                                              "the outgoing-URL guard).")
    credential_id: strawberry.ID | None = strawberry.field(default=strawberry.UNSET, description="An http or "
                                                           "custom_api credential for its auth headers.")


@strawberry.input(description="A tool and the fingerprint of the schema its reviewer admits.")
class ReviewedTool:
    name: str = strawberry.field(description="The tool's name.")
    fingerprint: str = strawberry.field(description="The fingerprint held-tools showed (SHA-256, lowercase hex).")
