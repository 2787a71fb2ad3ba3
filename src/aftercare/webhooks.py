"""Signed JSON webhooks, the same for on-call alerts and customer updates.

A receiver verifies ``X-Aftercare-Signature: sha256=<hex>``, the HMAC-SHA256 of
``<X-Aftercare-Timestamp>.<raw body>`` under the shared secret, and rejects timestamps
more than five minutes old (replays).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import httpx
import orjson


def sign_webhook(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


async def post_signed(
    client: httpx.AsyncClient,
    url: str,
    document: Any,
    secret: str = "",
    event_id: str | None = None,
) -> httpx.Response:
    """POST ``document`` as JSON, signed when there is a secret; raises on a non-2xx."""
    body = orjson.dumps(document)
    timestamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", "X-Aftercare-Timestamp": timestamp}
    if event_id:
        headers["X-Aftercare-Event-Id"] = event_id
    if secret:
        headers["X-Aftercare-Signature"] = sign_webhook(secret, timestamp, body)
    response = await client.post(url, content=body, headers=headers)
    response.raise_for_status()
    return response
