"""Typed settings read from the environment: one Settings object, validated at start."""

from __future__ import annotations

from functools import cached_property
from typing import Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.core.crypto import Keyring

_PG_SCHEMES = ("postgres://", "postgresql://", "asyncpg://", "postgresql+asyncpg://")


class SettingsError(Exception):
    """A setting is invalid; the message is one line a human can act on."""


class Settings(BaseSettings):
    """Everything Gatehouse reads from its environment.

    Only these values differ between the embedded mode (SQLite, in-process bus and workers)
    and production (PostgreSQL, Redis, separate worker processes).
    """

    model_config = SettingsConfigDict(env_prefix="GATEHOUSE_", extra="ignore", frozen=True)

    database_url: str = Field(
        "sqlite://./gatehouse.db", validation_alias=AliasChoices("DATABASE_URL", "GATEHOUSE_DATABASE_URL")
    )
    redis_url: str | None = Field(None, validation_alias=AliasChoices("REDIS_URL", "GATEHOUSE_REDIS_URL"))
    encryption_keys: str | None = None
    allow_private_targets: bool = False
    public_url: str = "http://127.0.0.1:8000"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", validation_alias=AliasChoices("GATEHOUSE_LOG_LEVEL", "LOG_LEVEL")
    )
    log_json: bool = True
    dev: bool = False
    inprocess_workers: bool | None = None
    max_body_bytes: int = Field(1_048_576, gt=0)
    default_rate_limit: int = Field(100, gt=0)
    graphql_max_depth: int = Field(10, gt=0)
    graphql_max_tokens: int = Field(2000, gt=0)
    graphql_max_aliases: int = Field(15, gt=0)
    db_pool_size: int = Field(20, gt=0)
    webhook_timeout_seconds: float = Field(10.0, gt=0, le=60)
    webhook_claim_seconds: float = Field(60.0, gt=0)
    webhook_disable_after_failures: int = Field(20, gt=0)
    webhook_concurrency: int = Field(64, gt=0, le=512)
    webhook_secret_grace_hours: float = Field(24.0, ge=0)
    ws_init_timeout_seconds: float = Field(10.0, gt=0)
    ws_max_subscriptions: int = Field(50, gt=0)
    ws_max_connections_per_key: int = Field(10_000, gt=0)  # open sockets of one key, per server process
    ws_send_queue_frames: int = Field(1000, gt=0)
    ws_keepalive_seconds: float = Field(15.0, gt=0)  # legacy graphql-ws `ka` interval
    ws_auth_recheck_seconds: float = Field(5.0, gt=0)  # open sockets: keys, agents read again (subscriptions.hub)
    slack_api_url: str = "https://slack.com/api"
    stripe_api_url: str = "https://api.stripe.com"
    discord_api_url: str = "https://discord.com/api/v10"
    connector_timeout_seconds: float = Field(15.0, gt=0, le=120)
    connector_max_response_bytes: int = Field(1_048_576, gt=0)
    mcp_direct_calls: bool = True  # a plain native tool call answered without the SDK's dispatch (app/mcp/direct.py)
    mcp_max_response_bytes: int = Field(4_194_304, gt=0)  # an upstream MCP server's answer, read at most
    smtp_ca_file: str | None = None  # extra CA bundle trusted for SMTP TLS (a private relay's CA)
    workflow_concurrency: int = Field(64, gt=0, le=1024)  # executions one worker runs at once
    workflow_lease_seconds: float = Field(30.0, ge=1)  # a dead worker's executions are taken over after it
    workflow_step_output_max_bytes: int = Field(262_144, gt=1024)
    # How a new execution wakes the runners on PostgreSQL: `notify`, a NOTIFY sent by the statement that
    # writes it (the runner LISTENs on a connection of its own), or `bus` (the Redis bus), for a pooler
    # that cannot LISTEN (PgBouncer in transaction mode). SQLite always wakes through the in-process bus.
    workflow_wake: Literal["notify", "bus"] = "notify"
    audit_retention_days: int = Field(0, ge=0)  # audit entries older than this are trimmed; 0 keeps them all
    # MCP transport security (DNS rebinding): Host and Origin values /mcp accepts besides public_url's
    # own and loopback; comma-separated, `name:*` allows any port
    mcp_allowed_hosts: str = ""
    mcp_allowed_origins: str = ""

    @field_validator("slack_api_url", "stripe_api_url", "discord_api_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value.startswith("sqlite://") or value.startswith(_PG_SCHEMES):
            return value
        raise ValueError("must start with sqlite:// or postgres://")

    @field_validator("redis_url")
    @classmethod
    def _known_redis(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis:// or rediss://")
        return value

    @field_validator("encryption_keys")
    @classmethod
    def _valid_keyring(cls, value: str | None) -> str | None:
        if value:
            Keyring.parse(value)  # raises ValueError with one sentence; no key material echoed
        return value or None

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite://")

    @property
    def wakes_by_notify(self) -> bool:
        """Whether workflow runners hear starts and cancels by PostgreSQL's NOTIFY (else the bus alone)."""
        return not self.is_sqlite and self.workflow_wake == "notify"

    @property
    def sqlite_path(self) -> str | None:
        """The embedded database's file, or None for PostgreSQL and in-memory SQLite."""
        if not self.is_sqlite:
            return None
        path = self.database_url[len("sqlite://") :].split("?", 1)[0]
        return None if path in ("", ":memory:") else path

    @cached_property
    def tortoise_db_url(self) -> str:
        """The URL in the form Tortoise expects (it names the asyncpg driver `postgres://`)."""
        for scheme in _PG_SCHEMES:
            if self.database_url.startswith(scheme):
                return "postgres://" + self.database_url[len(scheme) :]
        return self.database_url

    @property
    def run_workers_inprocess(self) -> bool:
        """Embedded mode runs the workers inside the server unless told otherwise."""
        return self.is_sqlite if self.inprocess_workers is None else self.inprocess_workers


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning validation errors into one clear line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "setting"
        if not name.startswith("GATEHOUSE_") and name not in ("DATABASE_URL", "REDIS_URL", "LOG_LEVEL"):
            name = "GATEHOUSE_" + name
        raise SettingsError(f"invalid setting {name}: {first['msg']}") from None
