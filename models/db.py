"""Database lifecycle: Tortoise configuration, connect, migrate, close."""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate as run_migrations

from app.core.settings import Settings
from models import MODEL_MODULES


def tortoise_config(settings: Settings) -> dict[str, Any]:
    """The one Tortoise configuration, for the server, the workers, the CLI and the tests."""
    url = settings.tortoise_db_url
    if not settings.is_sqlite:
        sep = "&" if "?" in url else "?"
        url = f"{url}{sep}maxsize={settings.db_pool_size}&minsize=1"
    return {
        "connections": {"default": url},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "models.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def open_database(settings: Settings) -> None:
    """Connect Tortoise for every task of the process (requests run outside the lifespan task)."""
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)


async def migrate(settings: Settings) -> None:
    """Apply every versioned migration not yet applied (PostgreSQL and SQLite alike)."""
    await run_migrations(config=tortoise_config(settings))


async def close_database() -> None:
    await connections.close_all()


async def database_ready() -> bool:
    """True when a trivial query succeeds; used by /readyz."""
    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception:
        return False
    return True
