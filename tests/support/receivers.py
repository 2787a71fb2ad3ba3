"""Real receivers for what the system sends out: an HTTP webhook server and an SMTP server."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import orjson
import uvicorn
from aiosmtpd.controller import Controller
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from aftercare.broker import free_port


@dataclass
class Received:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class WebhookReceiver:
    """Answers every POST like a chat robot does ({"errcode": 0, "code": 0})."""

    port: int
    received: list[Received] = field(default_factory=list)
    failures_left: int = 0
    """Answer this many requests with 503 first, to exercise retries."""
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    """Each request is recorded at once and answered when the gate is open (it starts
    open): closed, a sender is caught with its request in flight."""

    def __post_init__(self) -> None:
        self.gate.set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _endpoint(self, request: Request) -> JSONResponse:
        if self.failures_left > 0:
            self.failures_left -= 1
            return JSONResponse({"error": "try later"}, status_code=503)
        try:
            body = await request.body()
        except ClientDisconnect:  # the sender gave up (it is shutting down)
            return JSONResponse({}, status_code=499)
        self.received.append(
            Received(
                request.url.path,
                dict(request.query_params),
                {k.lower(): v for k, v in request.headers.items()},
                body,
            )
        )
        await self.gate.wait()
        return JSONResponse({"errcode": 0, "code": 0, "ok": True})

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self._endpoint, methods=["POST"])])


@asynccontextmanager
async def webhook_receiver() -> AsyncIterator[WebhookReceiver]:
    receiver = WebhookReceiver(free_port())
    server = uvicorn.Server(
        uvicorn.Config(receiver.app(), host="127.0.0.1", port=receiver.port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.01)
    try:
        yield receiver
    finally:
        server.should_exit = True
        await task


class _Collect:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if self.sink.refuse:  # as real servers do, the refusal quotes the address
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.sink.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


@dataclass
class SmtpSink:
    port: int
    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    refuse: bool = False
    """Answer every recipient with 550."""

    def subjects(self) -> list[str]:
        return [str(message["Subject"]) for _, message in self.messages]


@asynccontextmanager
async def smtp_sink() -> AsyncIterator[SmtpSink]:
    sink = SmtpSink(free_port())
    controller = Controller(_Collect(sink), hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
