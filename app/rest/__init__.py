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
    explanations,
    mcp_servers,
    policies,
    policy_versions,
    reviewers,
    webhooks,
    workflows,
)
