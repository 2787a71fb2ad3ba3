"""A day of routine progress updates judged by the SLA watcher: the notifier's real
cadence over the in-memory store, each update handed over 1–60 s after it fell due and
recorded on the ticket, the watcher's T-PROGRESS arithmetic over the recorded events.
Every cycle is met and nothing would page on-call; a notifier stopped for two hours
shows exactly the breaches it caused."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aftercare.channels import Channel, Message
from aftercare.china_calendar import china_calendar
from aftercare.clock import FixedClock
from aftercare.cloudevents import CloudEvent
from aftercare_notifier.adapters.memory_store import MemoryNotifierStore
from aftercare_notifier.adapters.templates import Templates
from aftercare_notifier.domain.cadence import Cadence
from aftercare_notifier.service_layer.notifier import Notifier
from aftercare_notifier.service_layer.tuning import NotifierTuning
from aftercare_notifier.settings import NotifierSettings
from aftercare_sla.adapters.policy_file import load_policy
from aftercare_sla.domain.calendar import AroundTheClock, Timekeeping, WorkingDays
from aftercare_sla.domain.facts import Fact
from aftercare_sla.domain.timer import Timer
from aftercare_sla.domain.timers import evaluate
from aftercare_ticket.contract import PROGRESS_UPDATE_LEAD, ce_type

ROOT = Path(__file__).resolve().parents[2]
TARGETS = load_policy(ROOT / "deploy" / "sla-policy.yaml", environ={}).resolved()
CLOCKS: dict[str, Timekeeping] = {
    "24x7": AroundTheClock(),
    "working_days": WorkingDays(china_calendar()),
}
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
CASES = {"t-urgent": ("en", True), "t-normal": ("zh-CN", False)}


@dataclass
class Delivered:
    kind: str = "email"
    recipient: str = "c***@example.com"
    messages: list[Message] = field(default_factory=list)

    async def send(self, message: Message) -> None:
        self.messages.append(message)


@dataclass
class Tickets:
    """The ticket service: it records each update as ProgressReported on the ticket."""

    facts: dict[str, list[Fact]] = field(default_factory=dict)

    async def ticket(self, ticket_id: str) -> dict[str, Any]:
        language, urgent = CASES[ticket_id]
        state = "acknowledged"
        return {"id": ticket_id, "state": state, "language": language, "urgent": urgent}

    async def contact(self, ticket_id: str) -> dict[str, Any]:
        return {"name": "Customer", "email": "customer@example.com"}

    async def record_progress(
        self, ticket_id: str, key: str, message: str, channel: str, occurred_at: datetime
    ) -> None:
        facts = self.facts[ticket_id]
        facts.append(Fact(len(facts) + 1, "ProgressReported", occurred_at, {"report_key": key}))


@dataclass
class Directory:
    channel: Delivered

    def for_customer(self, contact: Any, customer_ref: str | None) -> list[Channel]:
        return [self.channel]


@dataclass
class Day:
    notifier: Notifier
    store: MemoryNotifierStore
    clock: FixedClock
    tickets: Tickets
    channel: Delivered

    async def publish(self, ticket_id: str, name: str, data: dict[str, Any]) -> None:
        facts = self.tickets.facts.setdefault(ticket_id, [])
        facts.append(Fact(len(facts) + 1, name, self.clock.now(), data))
        event = CloudEvent(
            id=str(uuid.uuid4()),
            source="/aftercare/ticket",
            type=ce_type(name, 1),
            time=self.clock.now(),
            subject=ticket_id,
            sequence=len(facts),
            data={"ticket_id": ticket_id, **data},
        )
        async with self.store.transaction() as unit:
            await self.notifier.on_ticket_event(unit, event, partition=0)

    async def run(self, until: datetime, rng: random.Random, running: bool = True) -> None:
        """Minute by minute; the notifier's loop reaches each due update 1–60 s late."""
        while self.clock.now() < until:
            self.clock.advance(timedelta(minutes=1))
            if not running:
                continue
            tick = self.clock.now()
            self.clock.advance(timedelta(seconds=rng.randint(1, 59)))
            await self.notifier.schedule_progress()
            await self.notifier.send_due()
            self.clock.set(tick)


async def a_day(stopped: tuple[int, int] | None = None) -> tuple[Day, dict[str, list[Timer]]]:
    clock, store, tickets, channel = (
        FixedClock(START),
        MemoryNotifierStore(),
        Tickets(),
        Delivered(),
    )
    minutes = NotifierSettings().notifier_cadence_minutes
    notifier = Notifier(
        store,
        clock,
        Cadence.of_minutes(minutes, PROGRESS_UPDATE_LEAD),
        Templates(ZoneInfo("Asia/Shanghai")),
        tickets,
        Directory(channel),
        tuning=NotifierTuning(coalesce=timedelta(0)),
    )
    day = Day(notifier, store, clock, tickets, channel)
    for ticket_id, (language, urgent) in CASES.items():
        priority = "urgent" if urgent else "normal"
        raised = {"kind": "support", "channel": "email", "priority": priority, "urgent": urgent}
        await day.publish(ticket_id, "RequestRaised", {**raised, "language": language})
        await day.publish(ticket_id, "Acknowledged", {"priority": priority, "urgent": urgent})
    rng = random.Random(20261202)
    if stopped is None:
        await day.run(START + timedelta(hours=24), rng)
    else:
        begin, hours = stopped
        await day.run(START + timedelta(hours=begin), rng)
        await day.run(START + timedelta(hours=begin + hours), rng, running=False)
        await day.run(START + timedelta(hours=24), rng)
    timers = {
        ticket_id: [t for t in evaluate(TARGETS, facts, CLOCKS) if t.rule == "T-PROGRESS"]
        for ticket_id, facts in tickets.facts.items()
    }
    return day, timers


def paged(timer: Timer, end: datetime) -> bool:
    """Would the watcher have paged: a breach, or a warning instant before the stop."""
    if timer.outcome == "missed":
        return True
    return timer.warn_at is not None and (timer.stopped_at or end) >= timer.warn_at


async def test_a_day_of_routine_updates_is_met_and_pages_nobody() -> None:
    day, timers = await a_day()
    for ticket_id, cycles in timers.items():
        closed = [t for t in cycles if t.outcome != "running"]
        expected = 24 * 60 // (25 if ticket_id == "t-urgent" else 55)
        assert len(closed) >= expected - 1, (ticket_id, len(closed))
        assert {t.outcome for t in closed} == {"met"}, ticket_id
        assert not any(paged(t, day.clock.now()) for t in cycles), ticket_id
    languages = {m.language for m in day.channel.messages}
    assert languages == {"en", "zh-CN"}


async def test_a_notifier_stopped_for_two_hours_shows_its_breaches() -> None:
    _, timers = await a_day(stopped=(6, 2))
    for ticket_id, cycles in timers.items():
        missed = [t for t in cycles if t.outcome == "missed"]
        assert len(missed) == 1, (ticket_id, [t.stopped_at for t in missed])
        [breach] = missed
        assert breach.deadline is not None
        assert START + timedelta(hours=6) < breach.deadline <= START + timedelta(hours=8)
        assert breach.stopped_at is not None
        assert breach.stopped_at >= START + timedelta(hours=8)  # the first update back
        assert all(t.outcome == "met" for t in cycles if t.outcome not in ("missed", "running"))
