"""A customer's action API (document 000): endpoints that check the custom header, record the
body, and answer with JSON that echoes what they received, headers included (a careless real
endpoint might), so tests can prove the header values never come back to Gatehouse's callers."""

from __future__ import annotations

from aiohttp import web

from tests.connectors.fakes.base import FakeProvider, json_response

CUSTOMER_KEY = "cust-key-0123456789-secret"


class CustomerApi(FakeProvider):
    def __init__(self, expected_key: str = CUSTOMER_KEY) -> None:
        super().__init__()
        self.expected_key = expected_key
        for action in ("delete", "ban", "escalate"):
            self.app.router.add_route("*", f"/actions/{action}", self.handle)
        self.app.router.add_route("*", "/echo", self.echo)
        self.app.router.add_route("*", "/text", self.text)

    async def handle(self, request: web.Request) -> web.Response:
        if request.headers.get("X-Customer-Key") != self.expected_key:
            return json_response({"error": "unauthorized"}, 401)
        body = await request.json()
        return json_response({"done": request.path.rsplit("/", 1)[1], "contentId": body["content"]["id"],
                              "seenHeaders": {str(k): v for k, v in request.headers.items()}})

    async def echo(self, request: web.Request) -> web.Response:
        headers = {str(k): v for k, v in request.headers.items()}
        return json_response({"method": request.method, "query": dict(request.query), "headers": headers,
                              "body": (await request.read()).decode()})

    async def text(self, request: web.Request) -> web.Response:
        return web.Response(text="plain answer", content_type="text/plain")
