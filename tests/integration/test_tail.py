"""``aftercare tail`` run as a process, the way an integrator runs it."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aftercare.broker import EmbeddedBroker
from aftercare.cloudevents import CloudEvent
from tests.support.kafka import publish

AFTERCARE = str(Path(sys.executable).with_name("aftercare"))


def event(ticket: str, sequence: int, name: str) -> CloudEvent:
    return CloudEvent(
        id=f"{ticket}-{sequence}",
        source="/aftercare/ticket",
        type=f"com.aftercare.ticket.{name}.v1",
        time=datetime(2026, 3, 2, 9, sequence, tzinfo=UTC),
        subject=ticket,
        sequence=sequence,
        data={"ticket_id": ticket},
    )


async def run_tail(bootstrap: str, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        AFTERCARE,
        "tail",
        *args,
        env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def lines_of(process: asyncio.subprocess.Process) -> list[dict[str, Any]]:
    stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    return [json.loads(line) for line in stdout.decode().splitlines()]


async def test_tail_from_the_beginning_filtered_by_type(broker: EmbeddedBroker, topic: str) -> None:
    history = [
        event("t-1", 1, "RequestRaised"),
        event("t-1", 2, "Acknowledged"),
        event("t-2", 1, "RequestRaised"),
        event("t-2", 2, "Acknowledged"),
    ]
    await publish(broker.bootstrap_servers, topic, history)
    tail = await run_tail(
        broker.bootstrap_servers,
        "--topic",
        topic,
        "--from-beginning",
        "--type",
        "Acknowledged",
        "--until-idle",
        "1",
    )
    lines = await lines_of(tail)
    assert sorted(line["id"] for line in lines) == ["t-1-2", "t-2-2"]
    first = next(line for line in lines if line["id"] == "t-1-2")
    assert first["type"] == "com.aftercare.ticket.Acknowledged.v1"
    assert first["key"] == first["subject"] == "t-1"
    assert first["sequence"] == 2
    assert first["data"] == {"ticket_id": "t-1"}
    assert first["topic"] == topic


async def test_tail_without_from_beginning_shows_only_new_events(
    broker: EmbeddedBroker, topic: str
) -> None:
    await publish(broker.bootstrap_servers, topic, [event("t-old", 1, "RequestRaised")])
    tail = await run_tail(broker.bootstrap_servers, "--topic", topic, "--max-events", "1")
    assert tail.stderr is not None
    ready = await asyncio.wait_for(tail.stderr.readline(), 30)
    assert ready.decode().startswith(f"tailing {topic}")
    await publish(broker.bootstrap_servers, topic, [event("t-new", 1, "RequestRaised")])
    lines = await lines_of(tail)
    assert [line["id"] for line in lines] == ["t-new-1"]
