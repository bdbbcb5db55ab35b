"""The console's files, read once at start: bytes, media type, ETag and caching policy.

Serving from a dict built at start means a request path is only ever a key: nothing outside
`static/` can be reached, whatever the path holds.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

STATIC_ROOT = Path(__file__).resolve().parent / "static"
# A file whose name carries its version (vendor/graphql-ws-6.4.2.js) never changes under that name.
_VERSIONED = re.compile(r"-\d+\.\d+\.\d+\.(js|css)$")
_TEXT_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".md": "text/markdown",
               ".svg": "image/svg+xml"}
REVALIDATE = "no-cache"  # may be stored, but asked again (ETag -> 304) before each use
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True, slots=True)
class Asset:
    """One file as it is served."""

    body: bytes
    media_type: str
    etag: str
    cache_control: str

    def matches(self, if_none_match: str) -> bool:
        """True when the client's `If-None-Match` names this version (a 304 will do)."""
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or self.etag in tags


def _media_type(path: Path) -> str:
    text = _TEXT_TYPES.get(path.suffix)
    if text is not None:
        return f"{text}; charset=utf-8" if text.startswith("text/") else text
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def _asset(path: Path) -> Asset:
    body = path.read_bytes()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    cache = IMMUTABLE if _VERSIONED.search(path.name) else REVALIDATE
    return Asset(body, _media_type(path), etag, cache)


def load_assets(root: Path = STATIC_ROOT) -> dict[str, Asset]:
    """Every file under `root` by its path relative to it (`js/pending.js`)."""
    return {path.relative_to(root).as_posix(): _asset(path) for path in sorted(root.rglob("*")) if path.is_file()}
