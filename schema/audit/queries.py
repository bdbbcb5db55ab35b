"""Queries: auditLog (filtered, newest first) and auditVerification (scope audit:read)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers.audit import reads, verify
from schema.audit.types import AuditEntry, AuditVerification
from schema.context import GraphQLContext
from schema.pagination import After, Connection, First

_RANGE = "an ISO-8601 timestamp; `from` is included, `to` is not"
From = Annotated[str | None, strawberry.argument(name="from", description=f"Only entries made at or after {_RANGE}.")]
To = Annotated[str | None, strawberry.argument(name="to", description=f"Only entries made before {_RANGE}.")]
Text = str | None


@strawberry.type
class AuditQueries:
    @strawberry.field(description="The organization's audit entries, newest first (scope audit:read).")
    async def audit_log(
        self, info: Info[GraphQLContext, None],
        type: Annotated[Text, strawberry.argument(description="An entry type, e.g. `policy.updated`.")] = None,
        resource: Annotated[Text, strawberry.argument(description="The changed resource's id.")] = None,
        key: Annotated[Text, strawberry.argument(description="The API key that made the change.")] = None,
        agent: Annotated[Text, strawberry.argument(description="The agent its key is bound to.")] = None,
        since: From = None, before: To = None, first: First = 50, after: After = None,
    ) -> Connection[AuditEntry]:
        filters = reads.audit_filter(type=type, resource=resource, key=key, agent=agent, since=since, before=before)
        page = await reads.list_entries(info.context.ctx, filters, first, after)
        return Connection.from_page(page, AuditEntry.from_row)

    @strawberry.field(description="Recompute the audit hash chain and report the first entry that does not "
                                  "match (scope audit:read).")
    async def audit_verification(
        self, info: Info[GraphQLContext, None], since: From = None, before: To = None
    ) -> AuditVerification:
        return AuditVerification.of(await verify.verify_for(info.context.ctx, since, before))
