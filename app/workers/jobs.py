"""The list of worker modules; importing each registers its jobs with app.workers.register."""

from app.workers import expiry, mcp_calls, relay, webhooks, workflows  # noqa: F401
