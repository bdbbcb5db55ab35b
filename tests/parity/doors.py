"""One operation, two doors: a base for tests that run the same scenario over REST and GraphQL and
compare the answers in one shape (a GraphQL error as its code, a REST error as its `error`)."""

from __future__ import annotations

from typing import Any

from tests.conftest import Tenant


class Door:
    """Subclasses add the operations; `rest_prefix` is put before every REST path."""

    rest_prefix = ""

    def __init__(self, tenant: Tenant, kind: str) -> None:
        self.tenant, self.kind = tenant, kind

    async def _gql(self, query: str, variables: dict[str, Any]) -> Any:
        body = await self.tenant.graphql(query, variables)
        if body.get("errors"):
            return {"error": body["errors"][0]["extensions"]["code"]}
        return next(iter(body["data"].values()))

    async def _rest(self, method: str, path: str, json: Any = None) -> Any:
        async with self.tenant.client() as c:
            response = await c.request(method, f"{self.rest_prefix}{path}", json=json)
        body = response.json()
        return body if response.status_code < 400 else {"error": body["error"]}
