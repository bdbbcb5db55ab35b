"""REST transport: one module per resource. Importing a module registers its endpoints."""

from app.rest import api_keys, webhooks  # noqa: F401

REST_MODULES = ["api_keys", "webhooks"]
