"""Sealing a credential's data under the keyring, bound to its organization and id.

The associated data names the organization and the credential, so a token copied to another row
or organization fails to open: the reader gets a clear Conflict and the operator a log line,
never the data of the row it was copied from.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

import orjson

from app.core.crypto import DecryptionError, Keyring, encryption_context
from resolvers.context import Services
from resolvers.errors import Conflict

_log = logging.getLogger("gatehouse.credentials")


@dataclass(slots=True, frozen=True)
class Sealed:
    token: str
    key_id: str
    fingerprint: str


def keyring_of(services: Services) -> Keyring:
    if services.keyring is None:
        raise RuntimeError("this process opened no encryption keyring")
    return services.keyring


def associated_data(organization_id: str, credential_id: str) -> bytes:
    return encryption_context(organization_id=organization_id, credential_id=credential_id)


def fingerprint(token: str) -> str:
    """12 hex characters of the token's SHA-256: tells two secrets apart, reveals nothing of them."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()[:12]


def key_id_of(token: str) -> str:
    return token.split(".", 2)[1]


def seal(keyring: Keyring, organization_id: str, credential_id: str, data: dict[str, Any]) -> Sealed:
    token = keyring.encrypt(orjson.dumps(data), associated_data(organization_id, credential_id))
    return Sealed(token, keyring.active_kid, fingerprint(token))


def unseal(keyring: Keyring, organization_id: str, credential_id: str, token: str) -> dict[str, Any]:
    """The credential's data; Conflict (409) when the token cannot be opened here."""
    try:
        plain = keyring.decrypt(token, associated_data(organization_id, credential_id))
    except DecryptionError as exc:
        _log.error("credential cannot be decrypted: %s (credential %s, organization %s)",
                   exc, credential_id, organization_id)
        raise Conflict(
            f"credential {credential_id} cannot be decrypted ({exc}); "
            "its key may have been removed or its data copied from another credential: set its data again"
        ) from None
    data: dict[str, Any] = orjson.loads(plain)
    return data
