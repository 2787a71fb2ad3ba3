"""ASGI middleware shared by the services' HTTP APIs.

Written against raw ASGI rather than Starlette's ``BaseHTTPMiddleware``, which wraps
every request in extra tasks and streams: on a busy API that overhead showed up as a
tenth of the CPU per command.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from aftercare.metrics import HTTP_REQUESTS

Scope = dict[str, Any]
Message = dict[str, Any]


class RequestIdAndMetrics:
    """``X-Request-ID`` in (or made up) and out, kept in ``scope["state"]["request_id"]``
    for the handlers; latency recorded by route template, method and status."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = ""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                request_id = value.decode("latin-1")
                break
        request_id = request_id or str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode("latin-1")),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            HTTP_REQUESTS.labels(scope["method"], route, status).observe(
                time.perf_counter() - started
            )
