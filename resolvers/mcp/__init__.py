"""The MCP door's domain: upstream servers, the gateway's calls, who an MCP caller is."""
