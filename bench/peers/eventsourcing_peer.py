"""The five-command walk as a small ``eventsourcing`` 9.x application on PostgreSQL.

What a team would write with the library: a ``Ticket`` aggregate whose methods are events,
an application that loads it from the repository, calls the method and saves; the same
flow as Aftercare's (raise → acknowledge → diagnose → resolve → revisit) and the same
number of concurrent clients, here threads in one process, since the library's
PostgreSQL module is synchronous (psycopg). Run as ``python -m bench.peers.eventsourcing_peer
DSN SECONDS CLIENTS``; prints one JSON line with the figures.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

STEPS = {"raised": "acknowledged", "acknowledged": "diagnosed", "diagnosed": "resolved"}


class Ticket(Aggregate):
    @event("Raised")
    def __init__(self, kind: str, channel: str, customer_id: str, subject: str) -> None:
        self.kind, self.channel, self.customer_id, self.subject = (
            kind,
            channel,
            customer_id,
            subject,
        )
        self.state = "raised"

    def _moving(self, to: str) -> None:
        if STEPS.get(self.state) != to and not (self.state == "resolved" and to == "revisited"):
            raise ValueError(f"cannot go from {self.state} to {to}")

    @event("Acknowledged")
    def acknowledge(self, plan: str, expected_resolution_at: str) -> None:
        self._moving("acknowledged")
        self.plan, self.expected_resolution_at, self.state = (
            plan,
            expected_resolution_at,
            "acknowledged",
        )

    @event("Diagnosed")
    def diagnose(self, findings: str, method: str) -> None:
        self._moving("diagnosed")
        self.findings, self.method, self.state = findings, method, "diagnosed"

    @event("Resolved")
    def resolve(self, solution: str, verification: dict[str, Any]) -> None:
        self._moving("resolved")
        self.solution, self.verification, self.state = solution, verification, "resolved"

    @event("Revisited")
    def revisit(self, satisfaction: int) -> None:
        self._moving("revisited")
        self.satisfaction, self.state = satisfaction, "revisited"


class Desk(Application[UUID]):
    def raise_ticket(self, customer_id: str) -> UUID:
        ticket = Ticket("support", "api", customer_id, "Yield dropped after the last batch")
        self.save(ticket)
        return ticket.id

    def step(self, ticket_id: UUID, name: str, **body: Any) -> None:
        ticket: Ticket = self.repository.get(ticket_id)
        getattr(ticket, name)(**body)
        self.save(ticket)


WALK = (
    ("acknowledge", {"plan": "Remote log analysis"}),
    ("diagnose", {"findings": "Contaminated batch", "method": "remote"}),
    ("resolve", {"solution": "Replaced the batch", "verification": {"passed": True}}),
    ("revisit", {"satisfaction": 5}),
)


def environment(dsn: str, clients: int) -> dict[str, str]:
    url = urlparse(dsn)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": url.path.lstrip("/"),
        "POSTGRES_HOST": url.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": url.username or "postgres",
        "POSTGRES_PASSWORD": url.password or "",
        "POSTGRES_POOL_SIZE": str(clients),
        "POSTGRES_MAX_OVERFLOW": "0",
    }


def walk(desk: Desk, number: int, until: float, warm_until: float, out: list[float]) -> None:
    due = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    while time.monotonic() < until:
        started = time.perf_counter()
        ticket = desk.raise_ticket(f"CUST-{number}")
        timings = [time.perf_counter() - started]
        for name, body in WALK:
            started = time.perf_counter()
            extra = {"expected_resolution_at": due} if name == "acknowledge" else {}
            desk.step(ticket, name, **body, **extra)
            timings.append(time.perf_counter() - started)
        if time.monotonic() >= warm_until:
            out.extend(seconds * 1000 for seconds in timings)


def main() -> int:
    dsn, seconds, clients = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    desk = Desk(env=environment(dsn, clients))
    warmup = min(2.0, seconds / 5)
    start = time.monotonic()
    latencies: list[list[float]] = [[] for _ in range(clients)]
    threads = [
        threading.Thread(
            target=walk, args=(desk, n, start + warmup + seconds, start + warmup, latencies[n])
        )
        for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    time.sleep(warmup)
    cpu_start = os.times()
    for thread in threads:
        thread.join()
    cpu = os.times()
    elapsed = time.monotonic() - start - warmup
    samples = sorted(ms for per_client in latencies for ms in per_client)
    used = (cpu.user - cpu_start.user) + (cpu.system - cpu_start.system)
    print(
        json.dumps(
            {
                "commands": len(samples),
                "elapsed_s": elapsed,
                "cpu_s": used,
                "latencies_ms": samples,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
