"""The list of worker modules; importing each registers its jobs with app.workers.register."""

from app.workers import audit, expiry, mcp_calls, notifications, relay, webhooks, workflows  # noqa: F401
