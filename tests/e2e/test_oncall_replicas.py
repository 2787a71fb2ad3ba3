"""Two SLA watcher processes on PostgreSQL and the embedded broker, on one clock the test
moves, paging a two-level chain by e-mail (aiosmtpd) and a webhook (a real HTTP
receiver). The one sending the pages is killed with SIGKILL mid-escalation and started
again; later the one deciding the steps is killed too. Every step is recorded exactly
once, and every step reaches the people and channels it names (a message sent again
after a crash carries the same id, so receivers can drop the copy)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import uuid
import zlib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import psutil
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.broker import EmbeddedBroker, free_port
from aftercare.eventstore import RecordedEvent, SqlEventStore
from aftercare.topics import TopicSpec, ensure_topics
from aftercare_sla.domain.alerting import alert_id
from tests.e2e.test_oncall_paging import MISSED, ONCALL
from tests.e2e.test_sla_pipeline import ticket_events
from tests.support.clocked_sla import move_clock
from tests.support.kafka import eventually, publish
from tests.support.processes import stop, wait_until_up
from tests.support.receivers import (
    Received,
    SmtpSink,
    WebhookReceiver,
    smtp_sink,
    webhook_receiver,
)
from tests.support.sla_scenarios import T0, later

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]
TICKETS = 8
TICKET = re.compile(r"tk-rep-\d+\b")
STEPS = 4  # two levels, the chain repeated once
PAGED = TICKETS * (1 + STEPS)  # the warning's first step; the breach starts the chain again
RESTARTS = {"AlertUrgencyRaised", "AlertReassigned"}
# Enough room that no page is held back: held pages are another test's subject.
LIMIT = "  page_limit: {messages: 200, per: 30m}\n"


class Watchers:
    """The replicas, started from one environment; each with its own HTTP port."""

    def __init__(self, env: dict[str, str], clock_file: Path) -> None:
        self.env = env
        self.clock_file = clock_file
        self.running: list[asyncio.subprocess.Process] = []

    async def start(self) -> asyncio.subprocess.Process:
        port = free_port()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.support.clocked_sla",
            str(self.clock_file),
            env={**os.environ, **self.env, "AFTERCARE_SLA_PORT": str(port)},
            stdout=asyncio.subprocess.DEVNULL,
            cwd=ROOT,
        )
        await wait_until_up(f"http://127.0.0.1:{port}/healthz", process, within=60)
        self.running.append(process)
        return process

    async def kill(self, process: asyncio.subprocess.Process) -> None:
        process.send_signal(signal.SIGKILL)
        await process.wait()
        self.running.remove(process)

    async def stop_all(self) -> None:
        for process in self.running:
            await stop(process)
        self.running = []


async def holder(engine: AsyncEngine, duty: str, watchers: Watchers) -> asyncio.subprocess.Process:
    """The replica whose connection holds ``duty``'s advisory lock (its client port is
    one of the process's sockets)."""
    key = zlib.crc32(f"relay:{duty}".encode())
    query = text(
        "SELECT a.client_port FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.objid = :key "
        "AND a.datname = current_database()"
    )
    for _ in range(200):
        async with engine.connect() as connection:
            port = (await connection.execute(query, {"key": key})).scalar()
        for process in watchers.running:
            sockets = psutil.Process(process.pid).net_connections("tcp")
            if port is not None and any(s.laddr.port == port for s in sockets):
                return process
        await asyncio.sleep(0.1)
    raise AssertionError(f"nobody holds {duty}")


async def escalations(engine: AsyncEngine) -> list[RecordedEvent]:
    return await SqlEventStore(engine).read_all(types={"AlertEscalated"})


async def steps_taken(engine: AsyncEngine) -> Counter[tuple[str, int, int]]:
    """How often each step was recorded: (alert, which run of its chain, step). A breach
    or a reassignment starts the chain again from its first step."""
    chain: Counter[str] = Counter()
    taken: Counter[tuple[str, int, int]] = Counter()
    for event in await SqlEventStore(engine).read_all(types={"AlertEscalated", *RESTARTS}):
        if event.type in RESTARTS:
            chain[event.stream_id] += 1
        else:
            taken[(event.stream_id, chain[event.stream_id], event.data["step"])] += 1
    return taken


async def count_reaches(engine: AsyncEngine, expected: int, within: float = 60) -> None:
    found: list[int] = [0]

    async def check() -> bool:
        found[0] = len(await escalations(engine))
        return found[0] >= expected

    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"{found[0]} of {expected} steps recorded within {within} s")
        await asyncio.sleep(0.1)


def webhook_event_ids(hook: WebhookReceiver) -> tuple[Counter[str], int]:
    """Each alert event the group's webhook was told of, counted once per distinct
    message (a copy with the same id is the receiver's to drop), and the copies."""
    seen: dict[str, list[str]] = {}
    copies = 0
    for request in hook.received:
        if request.path != "/oncall":
            continue
        message_id = request.headers["x-aftercare-event-id"]
        if message_id in seen:
            copies += 1
            continue
        seen[message_id] = told_in(request)
    return Counter(e for ids in seen.values() for e in ids), copies


def told_in(request: Received) -> list[str]:
    """The alert events one call to the group's webhook tells of."""
    body = request.json()
    listed = body["events"] if body["type"] in {"oncall.pages", "oncall.held"} else []
    message_id = request.headers["x-aftercare-event-id"]
    return [str(e) for e in listed] or [message_id[:36]]  # id[-person]


def mails_naming(smtp: SmtpSink, address: str) -> tuple[Counter[str], int]:
    """Per ticket, the distinct messages to ``address`` that name it, and the copies."""
    seen: set[str] = set()
    naming: Counter[str] = Counter()
    copies = 0
    for recipients, message in smtp.messages:
        if address not in recipients:
            continue
        if message["Message-ID"] in seen:
            copies += 1
            continue
        seen.add(str(message["Message-ID"]))
        naming.update(set(TICKET.findall(str(message))))
    return naming, copies


async def test_a_watcher_killed_mid_escalation_and_a_second_replica_send_each_step_once(
    postgres_url: str, pg_engine: AsyncEngine, broker: EmbeddedBroker, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    topics = (f"tickets.rep-{tag}", f"sla.rep-{tag}")
    await ensure_topics(broker.bootstrap_servers, [TopicSpec(t, 4) for t in topics])
    policy = tmp_path / "policy.yaml"
    policy.write_text((ROOT / "deploy" / "sla-policy.yaml").read_text() + ONCALL + LIMIT)
    clock_file = tmp_path / "now"
    move_clock(clock_file, T0)
    async with webhook_receiver() as hook, smtp_sink() as smtp:
        env = {
            "DATABASE_URL": postgres_url,
            **broker.client_environment(),
            "AFTERCARE_TICKET_EVENTS_TOPIC": topics[0],
            "AFTERCARE_SLA_TOPIC": topics[1],
            "AFTERCARE_SLA_POLICY": str(policy),
            "AFTERCARE_ONCALL_WEBHOOK_URL": f"{hook.url}/oncall",
            "AFTERCARE_SMTP_HOST": "127.0.0.1",
            "AFTERCARE_SMTP_PORT": str(smtp.port),
            "AFTERCARE_API_KEYS": "k=reader",
            "AFTERCARE_LOG_LEVEL": "WARNING",
        }
        watchers = Watchers(env, clock_file)
        try:
            await watchers.start()
            await watchers.start()
            await asyncio.sleep(6)  # the group settles on two members
            for number in range(TICKETS):
                events = ticket_events(f"tk-rep-{number}", MISSED, met=False)
                await publish(broker.bootstrap_servers, topics[0], events)
            in_flight = await run_the_chain(pg_engine, watchers, clock_file, hook)
        finally:
            await watchers.stop_all()
    await every_step_once_and_delivered(pg_engine, hook, smtp)
    what_was_in_flight_was_told_again(hook, in_flight)


async def run_the_chain(
    engine: AsyncEngine, watchers: Watchers, clock_file: Path, hook: WebhookReceiver
) -> InFlight:
    """The clock in two-minute strides through the chain; the sender killed with level
    2's webhook call in flight, the decider killed once round 2 has begun."""
    in_flight = InFlight([], 0)
    for minutes in range(8, 61, 2):
        now = later(minutes) + timedelta(seconds=1)
        if minutes == 20:  # level 2 is due and names the webhook: catch it in flight
            in_flight = await kill_the_sender_in_flight(engine, watchers, hook, clock_file, now)
        elif minutes == 30:
            await kill_the_decider(engine, watchers, clock_file, now)
        else:
            move_clock(clock_file, now)
        await asyncio.sleep(1.5)  # the replicas act on this instant before the next
        print(f"at {minutes} min: {len(await escalations(engine))} steps recorded")
    await count_reaches(engine, PAGED)
    return in_flight


@dataclass
class InFlight:
    """The webhook calls held unanswered when their sender was killed, and where the
    calls made after the kill begin in the receiver's record."""

    calls: list[Received]
    later_from: int


async def kill_the_sender_in_flight(
    engine: AsyncEngine, watchers: Watchers, hook: WebhookReceiver, clock_file: Path, now: datetime
) -> InFlight:
    hook.gate.clear()
    calls = len(hook.received)
    move_clock(clock_file, now)
    await eventually(lambda: len(hook.received) > calls, within=60, message="level 2")
    await watchers.kill(await holder(engine, "sla-alerts", watchers))
    in_flight = InFlight(list(hook.received[calls:]), len(hook.received))
    hook.gate.set()
    await watchers.start()
    return in_flight


async def kill_the_decider(
    engine: AsyncEngine, watchers: Watchers, clock_file: Path, now: datetime
) -> None:
    recorded = len(await escalations(engine))
    move_clock(clock_file, now)
    await count_reaches(engine, recorded + 1)
    await watchers.kill(await holder(engine, "sla-alert-keeper", watchers))
    await watchers.start()


async def every_step_once_and_delivered(
    engine: AsyncEngine, hook: WebhookReceiver, smtp: SmtpSink
) -> None:
    steps = await escalations(engine)
    taken = await steps_taken(engine)
    twice = {step: count for step, count in taken.items() if count > 1}
    assert not twice, f"steps recorded twice: {twice}"
    for number in range(TICKETS):
        alert = alert_id(f"tk-rep-{number}", MISSED.rule, 1)
        runs = [(0, 0)] + [(1, step) for step in range(STEPS)]
        assert sorted((run, step) for a, run, step in taken if a == alert) == runs
    told, hook_copies = webhook_event_ids(hook)
    for event in steps:
        if event.data["level"] == 1:  # level 2 names the group's channels
            assert told[str(event.event_id)] >= 1, f"step {event.event_id} not on the webhook"
    for address, person in (("li@desk.example", "li"), ("lead@desk.example", "lead")):
        naming, copies = mails_naming(smtp, address)
        wanted = Counter(e.data["ticket_id"] for e in steps if person in e.data["people"])
        for ticket, pages in wanted.items():
            assert naming[ticket] >= pages, f"{address}: {naming[ticket]} of {pages} for {ticket}"
        print(f"{address}: {sum(naming.values())} pages, {copies} copies sent again")
    print(f"webhook: {sum(told.values())} events, {hook_copies} copies sent again")


def what_was_in_flight_was_told_again(hook: WebhookReceiver, in_flight: InFlight) -> None:
    """Every alert event in a call left unanswered by the killed sender reached the
    webhook again: as a copy of that call (same id), or listed in a later message (held
    events are released as they stand then, so that message may list more)."""
    assert in_flight.calls, "no call was caught in flight"
    told_later = {e for r in hook.received[in_flight.later_from :] for e in told_in(r)}
    for call in in_flight.calls:
        missing = set(told_in(call)) - told_later
        assert not missing, f"told once, by the sender that died, and never again: {missing}"
