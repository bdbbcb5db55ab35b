"""The MCP door: the native server at /mcp and the gateway at /mcp/gateways/{name}."""
