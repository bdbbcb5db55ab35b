"""GraphQL: upstream MCP servers for the gateway."""
