"""The README's "Integrating" consumer, run as printed against the embedded broker."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

from aftercare.broker import EmbeddedBroker
from aftercare.cloudevents import CloudEvent
from tests.support.kafka import publish

ROOT = Path(__file__).resolve().parents[2]


def example() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- integrating-example:start -->\n```python\n(.*?)```", readme, re.S)
    assert block, "README lost its integrating example"
    return block.group(1)


def ticket_event(sequence: int, name: str) -> CloudEvent:
    return CloudEvent(
        id=f"00000000-0000-4000-8000-00000000000{sequence}",
        source="/aftercare/ticket",
        type=f"com.aftercare.ticket.{name}.v1",
        time=datetime(2026, 3, 2, 9, sequence, tzinfo=UTC),
        subject="T-9",
        sequence=sequence,
        data={"ticket_id": "T-9", "customer_ref": "CUST-9"},
    )


async def test_the_readme_consumer_applies_each_event_once_in_order(
    broker: EmbeddedBroker, topic: str, tmp_path: Path
) -> None:
    first = [ticket_event(1, "RequestRaised"), ticket_event(2, "Acknowledged")]
    # At-least-once: the relay republished both after an outage, then went on.
    await publish(broker.bootstrap_servers, topic, [*first, *first, ticket_event(3, "Resolved")])
    script = tmp_path / "follow_tickets.py"
    script.write_text(example(), encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        env={
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
            "AFTERCARE_TICKET_EVENTS_TOPIC": topic,
            "STOP_AFTER": "3",
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    assert stdout.decode().splitlines() == [
        "T-9 1 RequestRaised CUST-9",
        "T-9 2 Acknowledged CUST-9",
        "T-9 3 Resolved CUST-9",
    ]
