"""Opaque, signed, expiring page tokens (Jira ``nextPageToken``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json


class TokenCodec:
    def __init__(self, secret: bytes) -> None:
        self.secret = secret

    def encode(self, payload: dict) -> str:
        raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        sig = hmac.new(self.secret, raw, hashlib.sha256).digest()[:12]
        return base64.urlsafe_b64encode(raw + b"." + sig).decode().rstrip("=")

    def decode(self, token: str) -> dict | None:
        """The payload, or None when the token is garbage or was not signed by this server."""
        try:
            blob = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            raw, sig = blob[:-13], blob[-12:]
            if blob[-13:-12] != b".":
                return None
            if not hmac.compare_digest(hmac.new(self.secret, raw, hashlib.sha256).digest()[:12], sig):
                return None
            payload = json.loads(raw)
        except (ValueError, TypeError):
            return None
        return payload if isinstance(payload, dict) else None


def query_hash(*parts: object) -> str:
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]  # noqa: S324
