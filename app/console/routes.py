"""`/console` and `/console/{path}`: the console's files, and index.html for its client-side routes.

Every answer, 200, 304 or 404, carries the same security headers: scripts, styles, images and
connections only from this origin (no inline script or style, so injected markup could not run),
never framed, no Referer leaving the page (an approval URL names an action).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from app.console.assets import Asset, load_assets

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",  # fetch to /graphql and the WebSocket on the same host (CSP3 'self' covers ws/wss)
    "base-uri 'none'",
    "form-action 'none'",  # forms are handled by script; none may ever submit (a key in a URL)
    "frame-ancestors 'none'",
))
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
INDEX = "index.html"


class Console:
    """Serves the files loaded at start; unknown paths without an extension are client routes."""

    def __init__(self, assets: dict[str, Asset]) -> None:
        self.assets = assets

    async def serve(self, request: Request) -> Response:
        """The file at `path`, index.html for a client route, or 404 for a missing file."""
        path = request.path_params.get("path", "")
        asset = self.assets.get(path) if path else None
        if asset is None and "." in path.rsplit("/", 1)[-1]:
            return Response("not found\n", 404, headers=SECURITY_HEADERS, media_type="text/plain")
        return self._serve(asset or self.assets[INDEX], request.headers.get("if-none-match", ""))

    @staticmethod
    def _serve(asset: Asset, if_none_match: str) -> Response:
        headers = {**SECURITY_HEADERS, "ETag": asset.etag, "Cache-Control": asset.cache_control}
        if if_none_match and asset.matches(if_none_match):
            return Response(status_code=304, headers=headers)
        return Response(asset.body, headers=headers, media_type=asset.media_type)


def console_routes() -> list[BaseRoute]:
    """The console's two routes; its files are read here, once."""
    console = Console(load_assets())
    return [
        Route("/console", console.serve, methods=["GET", "HEAD"]),
        Route("/console/{path:path}", console.serve, methods=["GET", "HEAD"]),
    ]
