"""Figure 8's upstream: a bare MCP server (the official SDK, stateless Streamable HTTP) with one
`echo` tool, for the gateway's overhead per forwarded call.

    python -m uvicorn bench.baselines.mcp_upstream:app --port 8300   (MCP at /mcp, GET /health)
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

server = MCPServer("bench-upstream", log_level="WARNING")


@server.tool(structured_output=False)
def echo(text: str) -> str:
    """Answer the text given."""
    return text


async def health(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


_mcp = server.streamable_http_app(stateless_http=True, json_response=True)
app = Starlette(routes=[Route("/health", health), Mount("/", _mcp)], lifespan=lambda _app: server.session_manager.run())
