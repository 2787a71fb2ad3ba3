"""The CRUD baseline: what a team would write instead of an event-sourced service.

FastAPI and SQLAlchemy over one ``crud_tickets`` table (the ticket's current state and a
version for If-Match) and a ``crud_ticket_history`` table (one row per command), with the
same routes, bodies, status codes and ETags as Aftercare's API, so the benchmark's load
generator drives both alike. Each command validates its body (pydantic), checks the
transition and the version in the UPDATE itself, and writes the history row, in one
transaction. It has none of Aftercare's other duties (API keys and roles, idempotency,
audit metadata, the outbox, problem documents, SLA clocks).

``python -m bench.peers.crud DSN PORT WORKERS`` makes the tables and serves on PORT with
WORKERS processes sharing it (SO_REUSEPORT), like ``aftercare api``.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Header, HTTPException, Response
from pydantic import BaseModel, Field
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    insert,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

metadata = MetaData()
tickets = Table(
    "crud_tickets",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("state", String(20), nullable=False),
    Column("version", Integer, nullable=False),
    Column("document", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
history = Table(
    "crud_ticket_history",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("ticket_id", String(36), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("command", String(20), nullable=False),
    Column("body", JSON, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)


class Customer(BaseModel):
    id: str = Field(max_length=64)
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=254)


class Product(BaseModel):
    sku: str = Field(max_length=64)
    model: str | None = Field(default=None, max_length=64)
    order_ref: str | None = Field(default=None, max_length=64)


class RaiseBody(BaseModel):
    kind: Literal["support", "complaint", "return", "refund", "warranty"]
    channel: str = Field(max_length=20)
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    customer: Customer
    product: Product | None = None
    subject: str = Field(max_length=200)
    description: str = Field(max_length=10_000)


class Acknowledge(BaseModel):
    plan: str = Field(max_length=2_000)
    expected_resolution_at: datetime


class Diagnose(BaseModel):
    findings: str = Field(max_length=5_000)
    method: Literal["remote", "onsite", "lab"]


class Verification(BaseModel):
    method: str = Field(max_length=200)
    result: str = Field(max_length=200)
    passed: bool


class Resolve(BaseModel):
    solution: str = Field(max_length=5_000)
    verification: Verification


class Revisit(BaseModel):
    satisfaction: int = Field(ge=1, le=5)


COMMANDS: dict[str, tuple[type[BaseModel], str, str]] = {
    "acknowledge": (Acknowledge, "raised", "acknowledged"),
    "diagnose": (Diagnose, "acknowledged", "diagnosed"),
    "resolve": (Resolve, "diagnosed", "resolved"),
    "revisit": (Revisit, "resolved", "revisited"),
}


def create_app(engine: AsyncEngine) -> FastAPI:
    app = FastAPI()

    @app.post("/tickets", status_code=201)
    async def raise_ticket(body: RaiseBody, response: Response) -> dict[str, Any]:
        ticket_id, now = str(uuid.uuid4()), datetime.now(UTC)
        document = body.model_dump(mode="json")
        async with engine.begin() as connection:
            await connection.execute(
                insert(tickets).values(
                    id=ticket_id, state="raised", version=1, document=document, updated_at=now
                )
            )
            await connection.execute(
                insert(history).values(
                    ticket_id=ticket_id, version=1, command="raise", body=document, at=now
                )
            )
        response.headers["ETag"] = '"1"'
        return {"id": ticket_id, "state": "raised", "version": 1}

    @app.post("/tickets/{ticket_id}/{command}")
    async def run_command(
        ticket_id: str,
        command: str,
        payload: dict[str, Any],
        response: Response,
        if_match: Annotated[str, Header(alias="If-Match")],
    ) -> dict[str, Any]:
        if command not in COMMANDS:
            raise HTTPException(404, "no such command")
        model, before, after = COMMANDS[command]
        body = model.model_validate(payload).model_dump(mode="json")
        expected, now = int(if_match.strip('"')), datetime.now(UTC)
        async with engine.begin() as connection:
            moved = await connection.execute(
                update(tickets)
                .where(
                    tickets.c.id == ticket_id,
                    tickets.c.version == expected,
                    tickets.c.state == before,
                )
                .values(state=after, version=expected + 1, updated_at=now)
                .returning(tickets.c.version)
            )
            if moved.scalar_one_or_none() is None:
                raise HTTPException(412, "the ticket changed, or cannot take this step")
            await connection.execute(
                insert(history).values(
                    ticket_id=ticket_id, version=expected + 1, command=command, body=body, at=now
                )
            )
        response.headers["ETag"] = f'"{expected + 1}"'
        return {"id": ticket_id, "state": after, "version": expected + 1}

    return app


def listening_socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    return sock


async def serve(url: str, port: int, pool: int) -> None:
    import uvicorn

    engine = create_async_engine(url, pool_size=pool, max_overflow=0)
    config = uvicorn.Config(create_app(engine), log_level="warning", access_log=False)
    await uvicorn.Server(config).serve(sockets=[listening_socket(port)])


async def make_tables(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    await engine.dispose()


def main() -> int:
    url, port, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    if os.environ.get("CRUD_PEER_WORKER"):
        asyncio.run(serve(url, port, pool=int(os.environ["CRUD_PEER_POOL"])))
        return 0
    asyncio.run(make_tables(url))
    env = {**os.environ, "CRUD_PEER_WORKER": "1", "CRUD_PEER_POOL": "20"}
    children = [
        subprocess.Popen([sys.executable, "-m", "bench.peers.crud", *sys.argv[1:]], env=env)
        for _ in range(workers)
    ]
    try:
        for child in children:
            child.wait()
    finally:
        for child in children:
            child.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
