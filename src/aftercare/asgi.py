"""The front door of every service's HTTP API: limits, request ids, metrics, last-resort errors.

Written against raw ASGI rather than Starlette's ``BaseHTTPMiddleware``, which wraps
every request in extra tasks and streams: on a busy API that overhead showed up as a
tenth of the CPU per command.

Everything here happens before routing, authentication or parsing, so a hostile client
costs little: a body larger than the limit is refused from its ``Content-Length`` or cut
off while it streams, never read whole; characters no database can store never reach
one; and whatever escapes the handlers still leaves as problem+json, without a trace.
"""

from __future__ import annotations

import time
import traceback
import uuid
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

import structlog

from aftercare.metrics import HTTP_REQUESTS
from aftercare.problems import Problem, unavailable

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]

log = structlog.get_logger(__name__)

RECORDED_HEADERS = (b"x-request-id", b"x-correlation-id", b"x-actor")
"""Headers whose values end up in events or logs: bounded and printable."""
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True, slots=True)
class DoorLimits:
    max_body_bytes: int = 256 * 1024
    max_header_chars: int = 200
    form_paths: tuple[str, ...] = ()
    """Path prefixes whose pages post plain HTML forms (a customer's survey), where
    ``application/x-www-form-urlencoded`` bodies are accepted besides JSON."""


@dataclass(slots=True)
class Overflow:
    """Set once a body passed the limit."""

    reached: bool = False


def _printable(value: bytes) -> bool:
    return all(0x20 <= byte < 0x7F for byte in value)


def _json_content_type(value: bytes) -> bool:
    media = value.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or (
        media.startswith(b"application/") and media.endswith(b"+json")
    )


class FrontDoor:
    """Refuses what no endpoint may receive, names every request (``X-Request-ID`` in, or
    made up, and out; ``scope["state"]["request_id"]`` for handlers), records latency by
    route template, and turns an unhandled error into a 500 (503 when the database is
    unreachable) problem document."""

    def __init__(self, app: Any, limits: DoorLimits | None = None) -> None:
        self.app = app
        self.limits = limits or DoorLimits()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0
        request_id = ""
        overflow = Overflow()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if overflow.reached:
                return  # the app's answer to a body it never got whole: 413 instead
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode("latin-1")),
                ]
            await send(message)

        try:
            refusal, request_id, _ = self._inspect(scope)
            scope.setdefault("state", {})["request_id"] = request_id
            if refusal is not None:
                await refusal.response(scope["path"])(scope, receive, send_with_id)
                return
            try:
                await self.app(scope, self._bounded(receive, overflow), send_with_id)
            except Exception:
                if not overflow.reached:
                    raise
            if overflow.reached and not status:
                overflow.reached = False
                await self._too_large().response(scope["path"])(scope, receive, send_with_id)
        except Exception as error:
            await self._failed(error, scope, receive, send_with_id, answered=bool(status))
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            HTTP_REQUESTS.labels(scope["method"], route, status or 500).observe(
                time.perf_counter() - started
            )

    def _inspect(self, scope: Scope) -> tuple[Problem | None, str, int | None]:
        """The refusal this request earns before anything reads it, if any; its request
        id; its declared body length."""
        request_id, length, content_type, has_body = "", None, None, False
        refusal: Problem | None = None
        for name, value in scope["headers"]:
            if name in RECORDED_HEADERS:
                if len(value) > self.limits.max_header_chars or not _printable(value):
                    refusal = refusal or _bad_header(name.decode(), self.limits.max_header_chars)
                elif name == b"x-request-id":
                    request_id = value.decode("latin-1")
            elif name == b"content-length":
                has_body = value.strip() not in (b"", b"0")
                length = int(value) if value.strip().isdigit() else None
            elif name == b"transfer-encoding":
                has_body = True
            elif name == b"content-type":
                content_type = value
        request_id = request_id or str(uuid.uuid4())
        raw_query: bytes = scope.get("query_string", b"")
        if "\x00" in scope["path"] or b"%00" in raw_query or b"\x00" in raw_query:
            refusal = Problem(
                400,
                "bad-request",
                "The address holds a NUL character",
                "U+0000 may not appear in a path or query",
                field="path" if "\x00" in scope["path"] else "query",
            )
        if refusal is None and length is not None and length > self.limits.max_body_bytes:
            refusal = self._too_large()
        if (
            refusal is None
            and has_body
            and scope["method"] in _BODY_METHODS
            and not (content_type and _json_content_type(content_type))
            and not (content_type and self._form_allowed(scope["path"], content_type))
        ):
            refusal = Problem(
                415,
                "unsupported-media-type",
                "Bodies are JSON",
                "send Content-Type: application/json",
                field="Content-Type",
            )
        return refusal, request_id, length

    def _form_allowed(self, path: str, content_type: bytes) -> bool:
        media = content_type.split(b";", 1)[0].strip().lower()
        return media == b"application/x-www-form-urlencoded" and any(
            path.startswith(prefix) for prefix in self.limits.form_paths
        )

    def _bounded(self, receive: Any, overflow: Overflow) -> Any:
        """``receive`` that stops a body at the limit, whatever its headers said: past
        it the app is told the client went away, and reads no more."""
        limit = self.limits.max_body_bytes
        seen = 0

        async def bounded_receive() -> Message:
            nonlocal seen
            if overflow.reached:
                return {"type": "http.disconnect"}
            message: Message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    overflow.reached = True
                    return {"type": "http.disconnect"}
            return message

        return bounded_receive

    def _too_large(self) -> Problem:
        limit = self.limits.max_body_bytes
        return Problem(
            413,
            "body-too-large",
            "The request body is too large",
            f"bodies are limited to {limit} bytes (AFTERCARE_MAX_BODY_BYTES)",
            max_body_bytes=limit,
        )

    async def _failed(
        self, error: Exception, scope: Scope, receive: Any, send: Any, *, answered: bool
    ) -> None:
        """Log what failed where (frames only: messages of database errors carry the
        statement's values, personal data among them), then answer if still possible."""
        request_id = scope.get("state", {}).get("request_id")
        route = getattr(scope.get("route"), "path", "unmatched")
        problem = unavailable(error)
        if problem is None:
            log.error(
                "request failed",
                request_id=request_id,
                method=scope["method"],
                route=route,
                error=type(error).__name__,
                frames="".join(traceback.format_tb(error.__traceback__)),
            )
            problem = Problem(
                500,
                "internal-error",
                "The request could not be completed",
                f"an unexpected {type(error).__name__}; quote request id {request_id}",
                request_id=request_id,
            )
        else:
            log.warning(
                "dependency unavailable",
                request_id=request_id,
                route=route,
                error=type(error).__name__,
            )
        if not answered:
            await problem.response(scope["path"])(scope, receive, send)


def _bad_header(name: str, limit: int) -> Problem:
    return Problem(
        422,
        "validation-error",
        "The request is not valid",
        f"{name} must be printable ASCII of at most {limit} characters",
        field=name,
        errors=[
            {
                "field": name,
                "message": f"at most {limit} printable characters",
                "type": "header_invalid",
            }
        ],
    )
