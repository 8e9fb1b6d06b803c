"""API keys: a mounted file of sha256 hex digests, checked in constant time.

The file holds one lowercase or uppercase hex sha256 digest per line; blank
lines and `#` comments are ignored. Only digests are stored, so the Secret never
holds a usable key. Make a line with `printf %s "$KEY" | sha256sum`.
A key is presented as `Authorization: Bearer <key>` or `X-API-Key: <key>`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from starlette.datastructures import Headers
from starlette.requests import Request

from .errors import Unauthorized

__all__ = ["ApiKeys", "KeyStore", "presented_key", "require_api_key"]

logger = logging.getLogger("gateway.auth")
DIGEST = re.compile(r"^[0-9a-fA-F]{64}$")


@dataclass(frozen=True)
class ApiKeys:
    digests: tuple[bytes, ...]

    @classmethod
    def parse(cls, text: str) -> ApiKeys:
        """Digests from the file's text; ValueError names the first bad line."""
        digests = []
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if not DIGEST.match(line):
                raise ValueError(f"line {number} is not a sha256 hex digest")
            digests.append(bytes.fromhex(line))
        return cls(tuple(digests))

    @classmethod
    def load(cls, path: Path) -> ApiKeys:
        return cls.parse(path.read_text(encoding="utf-8"))

    def allows(self, key: str) -> bool:
        """Compare against every digest without stopping early (constant time per digest)."""
        digest = hashlib.sha256(key.encode("utf-8")).digest()
        matches = [hmac.compare_digest(digest, known) for known in self.digests]
        return any(matches)


class KeyStore:
    """The keys in force, re-read when the mounted Secret changes (rotation without restart)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.keys = ApiKeys.load(path)  # a bad file at startup stops the gateway
        self._announce()

    def reload(self) -> None:
        """Take the file's keys if it is readable and valid; otherwise keep the current ones."""
        try:
            keys = ApiKeys.load(self.path)
        except (OSError, ValueError) as exc:
            logger.warning(
                "API key file rejected, keeping the current keys",
                extra={"file": str(self.path), "reason": str(exc)},
            )
            return
        if keys != self.keys:
            self.keys = keys
            self._announce()

    def _announce(self) -> None:
        count = len(self.keys.digests)
        level = logging.INFO if count else logging.WARNING
        logger.log(
            level,
            "API keys loaded" if count else "API key file lists no keys: all 401",
            extra={"file": str(self.path), "keys": count},
        )


def presented_key(headers: Headers) -> str | None:
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return headers.get("x-api-key") or None


async def require_api_key(request: Request) -> None:
    """FastAPI dependency: 401 unless auth is off or a listed key is presented."""
    store: KeyStore | None = request.app.state.api_keys
    if store is None:
        return
    keys = store.keys
    key = presented_key(request.headers)
    if key is None:
        raise Unauthorized(
            "missing API key: send 'Authorization: Bearer <key>' or 'X-API-Key'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not keys.allows(key):
        raise Unauthorized("invalid API key", headers={"WWW-Authenticate": "Bearer"})
