"""REST transport: one module per resource. Importing a module registers its endpoints."""

from app.rest import (  # noqa: F401
    actions,
    agents,
    api_keys,
    approvals,
    audit,
    connectors,
    credentials,
    evidence,
    mcp_servers,
    policies,
    reviewers,
    webhooks,
    workflows,
)
