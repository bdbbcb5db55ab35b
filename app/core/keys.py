"""Where the credential keyring comes from.

Production (PostgreSQL) reads `GATEHOUSE_ENCRYPTION_KEYS` and refuses to start without it: a key
made up on one replica would seal secrets no other replica can open. The embedded mode, with no key
set, makes one key file next to its database once (mode 0600) and says so, so `make serve` works
with nothing configured and restarts keep reading the same secrets.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from app.core.crypto import Keyring, generate_key
from app.core.settings import Settings, SettingsError

KEY_FILE_SUFFIX = ".encryption-keys"
EMBEDDED_KID = "local"
_log = logging.getLogger("gatehouse.keys")


def key_file_path(settings: Settings) -> Path:
    """`<database file>.encryption-keys`, or `./gatehouse.encryption-keys` for in-memory SQLite."""
    database = settings.sqlite_path
    return Path(database + KEY_FILE_SUFFIX) if database else Path("gatehouse" + KEY_FILE_SUFFIX)


def load_keyring(settings: Settings) -> Keyring:
    """The keyring the settings call for; raises SettingsError with one line a human can act on."""
    if settings.encryption_keys:
        return Keyring.parse(settings.encryption_keys)
    if not settings.is_sqlite:
        raise SettingsError(
            "GATEHOUSE_ENCRYPTION_KEYS is not set: production mode needs it to encrypt credentials "
            "(make a key with `gatehouse generate-key`)"
        )
    path = key_file_path(settings)
    if not path.exists():
        _create_key_file(path)
    try:
        return Keyring.parse(path.read_text(encoding="ascii"))
    except (OSError, ValueError) as exc:
        raise SettingsError(f"cannot read the embedded key file {path}: {exc}") from None


def _create_key_file(path: Path) -> None:
    """Write a fresh key, readable by this user only; a file made meanwhile by another process wins."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(f"{EMBEDDED_KID}:{generate_key()}\n")
    _log.warning(
        "GATEHOUSE_ENCRYPTION_KEYS is not set: created the key file %s (mode 0600) to encrypt "
        "credentials; keep it with the database, or set GATEHOUSE_ENCRYPTION_KEYS to its contents",
        path,
    )
