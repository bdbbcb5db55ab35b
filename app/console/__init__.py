"""The approvals console: a browser client of the public GraphQL API, served as plain ES modules."""

from app.console.routes import console_routes

__all__ = ["console_routes"]
