"""REST transport: one module per resource. Importing a module registers its endpoints."""

from app.rest import actions, api_keys, approvals, connectors, credentials, evidence, policies, webhooks  # noqa: F401
