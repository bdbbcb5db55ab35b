"""REST: a policy's versions and the diff between two (`/policy/{id}/versions`, at the root and under
/api/v1 like the policies themselves), and backtests of draft policies (`POST /policy/backtest`)."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from starlette.responses import Response

from app.core.clock import isoformat_z
from app.rest.lists import ListQuery, list_response
from app.rest.routing import RestCall, endpoint
from models.governance import PolicyVersion
from resolvers.governance import backtest, versions
from resolvers.governance.backtest import BacktestIn, BacktestResult

TAGS = ["policies"]


class VersionListQuery(ListQuery):
    cursor: str | None = Field(None, max_length=16)


def serialise_version(row: PolicyVersion) -> dict[str, Any]:
    return {
        "policyId": row.policy_id,
        "version": row.number,
        "name": row.name,
        "description": row.description,
        "mode": row.mode,
        "status": row.status,
        "rules": row.rules,
        "notify": row.notify or [],
        "createdAt": isoformat_z(row.created_at),
        "createdBy": row.created_by,
    }


@endpoint("GET", "/policy/{id}/versions", summary="A policy's versions, newest first (archived policies too)",
          tags=TAGS, query=VersionListQuery, scopes=("policies:read",), also_at_root=True)
async def list_versions(call: RestCall) -> Response:
    q: VersionListQuery = call.query
    page = await versions.list_versions(call.ctx, call.path["id"], limit=q.limit, cursor=q.cursor)
    return list_response(call.request, page.items, page.next_cursor, serialise_version)


@endpoint("GET", "/policy/{id}/versions/{number}", summary="One version of a policy", tags=TAGS, also_at_root=True)
async def get_version(call: RestCall) -> dict[str, Any]:
    number = versions.version_number(call.path["number"], "version")
    return serialise_version(await versions.get_version(call.ctx, call.path["id"], number))


@endpoint("GET", "/policy/{id}/versions/{number}/diff/{other}",
          summary="What changed from one version to another: fields, and rules added, removed and changed",
          tags=TAGS, also_at_root=True)
async def diff_versions(call: RestCall) -> dict[str, Any]:
    before = versions.version_number(call.path["number"], "version")
    after = versions.version_number(call.path["other"], "version")
    return await versions.diff(call.ctx, call.path["id"], before, after)


def serialise_backtest(result: BacktestResult) -> dict[str, Any]:
    replay = result.replay
    return {
        "actions": result.actions,
        "before": {status: replay.before.get(status, 0) for status in backtest.STATUSES},
        "after": {status: replay.after.get(status, 0) for status in backtest.STATUSES},
        "changed": replay.changed,
        "truncated": replay.changed > len(replay.changes),
        "changes": [
            {"actionId": c.action_id, "type": c.action_type, "before": c.before, "after": c.after,
             "rule": None if c.policy_id is None else {
                 "policyId": c.policy_id, "ruleIndex": c.rule_index, "side": c.side,
                 "draft": result.by_draft(c)}}
            for c in replay.changes
        ],
    }


@endpoint("POST", "/policy/backtest", summary="Replay recorded actions through draft policies; nothing is stored",
          tags=TAGS, body=BacktestIn, scopes=("policies:read", "actions:read"), also_at_root=True)
async def run_backtest(call: RestCall) -> dict[str, Any]:
    return serialise_backtest(await backtest.backtest(call.ctx, call.body))
