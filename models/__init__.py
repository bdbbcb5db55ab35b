"""Tortoise models only. Every model module is listed in MODEL_MODULES."""

MODEL_MODULES = [
    "models.organizations",
    "models.api_keys",
    "models.events",
    "models.governance",
    "models.webhooks",
    "models.connectors",
    "models.workflows",
    "models.agents",
    "models.notifications",
    "models.reviewers",
    "models.mcp",
    "models.audit",
]
