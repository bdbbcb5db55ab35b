"""Cursors a client altered: every list answers 400 `cursor is not valid`, never a database error.

A cursor is base64url of `[time, id]`; one holding an instant outside the years 1 to 9999 in UTC,
or an id longer than the list's id column, failed the query (500 INTERNAL) on every list."""

from __future__ import annotations

import base64

import orjson
import pytest

from tests.conftest import Tenant


def cursor_of(stamp: str, row_id: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([stamp, row_id])).decode().rstrip("=")


ALTERED = [cursor_of("0001-01-01T00:00:00+01:00", "x"), cursor_of("9999-12-31T23:59:59-01:00", "x"),
           cursor_of("2020-01-01T00:00:00Z", "x" * 33)]
REST_LISTS = ["/agents", "/api/v1/api-keys", "/api/v1/reviewer-groups", "/api/v1/credentials",
              "/api/v1/connectors", "/api/v1/workflows", "/api/v1/executions", "/api/v1/audit",
              "/api/v1/webhooks", "/api/v1/mcp-servers", "/policy", "/api/v1/actions", "/approvals/pending"]
GRAPHQL_LISTS = ["agents", "apiKeys", "workflows", "executions", "auditLog", "policies", "actions", "credentials",
                 "reviewerGroups"]


@pytest.mark.parametrize("cursor", ALTERED, ids=["year-0", "year-10000", "long-id"])
async def test_an_altered_cursor_is_400_on_every_list(tenant: Tenant, cursor: str) -> None:
    async with tenant.client() as c:
        answers = {path: await c.get(path, params={"cursor": cursor}) for path in REST_LISTS}
    for path, answer in answers.items():
        assert answer.status_code == 400, (path, answer.text)
        assert answer.json() == {"error": "VALIDATION_ERROR", "message": "cursor is not valid"}, (path, answer.text)
    for field in GRAPHQL_LISTS:
        out = await tenant.graphql(f"query($c: String) {{ {field}(after: $c) {{ edges {{ cursor }} }} }}",
                                   {"c": cursor})
        assert out["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR", (field, out)
        assert out["errors"][0]["message"] == "cursor is not valid", (field, out)
