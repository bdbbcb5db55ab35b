"""Who may open an MCP session: the Gatehouse API key in any of its three headers, and which Host/Origin.

The app's middleware has already authenticated the request (401 before any MCP code runs) and
counted it against the key's rate limit; `KeyVerifier` gives the SDK's auth layer the same answer
from the same cached lookup, so the SDK's own checks stay on rather than being bypassed. `KeyBackend`
hands the SDK the key the middleware took, from whichever header it took it, as the Bearer token
the SDK reads.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser, BearerAuthBackend
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import AnyHttpUrl
from starlette.authentication import AuthCredentials
from starlette.requests import HTTPConnection

from app.auth import Authenticator, Caller, presented_key
from app.core.settings import Settings

LOOPBACK_HOSTS = ["127.0.0.1:*", "localhost:*", "[::1]:*", "127.0.0.1", "localhost"]
LOOPBACK_ORIGINS = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
MAX_KEPT_TOKENS = 10_000


class KeyVerifier:
    """The SDK's TokenVerifier over Gatehouse API keys.

    The key's look-up is the authenticator's (cached, cleared on revocation); the AccessToken built
    from a caller is kept beside it, keyed by that caller, so a hot key does not rebuild it per call.
    """

    def __init__(self, authenticator: Authenticator) -> None:
        self._authenticator = authenticator
        self._tokens: dict[Caller, AccessToken] = {}

    async def verify_token(self, token: str) -> AccessToken | None:
        caller = await self._authenticator.authenticate(token)
        if caller is None:
            return None
        known = self._tokens.get(caller)
        if known is not None and known.token == token:
            return known
        if len(self._tokens) >= MAX_KEPT_TOKENS:
            self._tokens.clear()
        made = self._tokens[caller] = AccessToken(
            token=token, client_id=caller.key_id, scopes=sorted(caller.scopes), subject=caller.key_id,
            claims={"organization_id": caller.organization_id})
        return made


class KeyBackend(BearerAuthBackend):
    """The SDK's bearer backend over the key the app's middleware took (`presented_key`: Bearer, else
    `x-apaaikey`, else `x-api-key`), so a key sent in either other header is the same caller with the
    same scopes, and the SDK's own checks of the token still run on it."""

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, AuthenticatedUser] | None:
        key = presented_key(conn.headers)
        if key is None:
            return None
        bearer = [(b"authorization", b"Bearer " + key.encode("latin-1"))]  # as Starlette decoded it
        return await super().authenticate(HTTPConnection({"type": "http", "headers": bearer}))


def auth_settings(settings: Settings) -> AuthSettings:
    url = AnyHttpUrl(settings.public_url.rstrip("/") + "/mcp")
    return AuthSettings(issuer_url=AnyHttpUrl(settings.public_url), resource_server_url=url,
                        validate_token_resource=False)  # API keys are not audience-bound tokens


def _listed(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """DNS-rebinding protection on: public_url's host, loopback, and the configured extras."""
    public = urlsplit(settings.public_url)
    origin = f"{public.scheme}://{public.netloc}"
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[public.netloc, *LOOPBACK_HOSTS, *_listed(settings.mcp_allowed_hosts)],
        allowed_origins=[origin, *LOOPBACK_ORIGINS, *_listed(settings.mcp_allowed_origins)],
    )
