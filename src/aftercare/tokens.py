"""Signed, expiring tokens for links sent to people without an account (a customer's
satisfaction survey): ``<payload>.<signature>``, the payload URL-safe base64 JSON, the
signature its HMAC-SHA256 under a secret the issuing and the receiving service share.
Single use is the receiver's business (it records each token's ``nonce``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Any

import orjson


class TokenRefused(ValueError):
    """Not a token we issued, altered, or expired; ``reason`` says which, never more."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest())


def sign(secret: str, claims: dict[str, Any], expires_at: datetime) -> str:
    body = {**claims, "exp": int(expires_at.timestamp()), "nonce": secrets.token_urlsafe(12)}
    payload = _b64(orjson.dumps(body))
    return f"{payload}.{_signature(secret, payload)}"


def verify(secret: str, token: str, now: datetime) -> dict[str, Any]:
    """The claims of a valid token, or ``TokenRefused``."""
    payload, _, signature = token.partition(".")
    if not payload or not signature or len(token) > 2000:
        raise TokenRefused("not a token")
    if not hmac.compare_digest(signature, _signature(secret, payload)):
        raise TokenRefused("not a token we issued")
    try:
        claims: dict[str, Any] = orjson.loads(_unb64(payload))
    except (ValueError, orjson.JSONDecodeError) as error:
        raise TokenRefused("not a token") from error
    if not isinstance(claims, dict) or int(claims.get("exp", 0)) < now.timestamp():
        raise TokenRefused("expired")
    return claims
