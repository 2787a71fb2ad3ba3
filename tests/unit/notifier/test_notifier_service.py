"""The notifier's service layer over the in-memory store, with a ticket service and
channels that are plain objects: queueing, coalescing, the cadence, delivery failures,
recording on the ticket and its retries, in milliseconds. The same service runs on the
databases, the real ticket API and real SMTP and webhook receivers in the integration
and end-to-end suites."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from aftercare.channels import Channel, Message
from aftercare.clock import FixedClock
from aftercare.cloudevents import CloudEvent
from aftercare_notifier.adapters.memory_store import MemoryNotifierStore
from aftercare_notifier.adapters.templates import Templates
from aftercare_notifier.adapters.ticket_api import Refused
from aftercare_notifier.domain.cadence import DEFAULT_CADENCE
from aftercare_notifier.service_layer.notifier import Notifier
from aftercare_notifier.service_layer.tuning import NotifierTuning
from aftercare_ticket.contract import ce_type

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TUNING = NotifierTuning(coalesce=timedelta(seconds=10), retry_backoff=timedelta(seconds=5))


@dataclass
class FakeChannel:
    kind: str
    recipient: str = "l***@example.com"
    failures_left: int = 0
    delivered: list[Message] = field(default_factory=list)

    async def send(self, message: Message) -> None:
        if self.failures_left:
            self.failures_left -= 1
            raise ConnectionError(f"{self.kind} refused li.na@example.com")
        self.delivered.append(message)


@dataclass
class FakeDirectory:
    channels: list[FakeChannel]

    def for_customer(self, contact: Any, customer_ref: str | None) -> list[Channel]:
        return list(self.channels)


@dataclass
class FakeTickets:
    """The ticket service: one ticket, its contact, and the progress it was told of."""

    state: str = "acknowledged"
    recorded: list[tuple[str, datetime]] = field(default_factory=list)
    record_failures: int = 0
    refuse_records: bool = False

    async def ticket(self, ticket_id: str) -> dict[str, Any]:
        return {"id": ticket_id, "state": self.state, "language": "en", "customer_ref": "C-1"}

    async def contact(self, ticket_id: str) -> dict[str, Any]:
        return {"name": "Li Na", "email": "li.na@example.com"}

    async def record_progress(
        self, ticket_id: str, key: str, message: str, channel: str, occurred_at: datetime
    ) -> None:
        if self.refuse_records:
            raise Refused(422, "invalid-transition")
        if self.record_failures:
            self.record_failures -= 1
            raise httpx.ConnectError("ticket service away")
        self.recorded.append((key, occurred_at))


@dataclass
class Desk:
    notifier: Notifier
    store: MemoryNotifierStore
    clock: FixedClock
    tickets: FakeTickets
    email: FakeChannel
    sequence: int = 0

    async def event(self, name: str, at: datetime | None = None, **data: Any) -> None:
        """The ticket's next public event reaches the notifier (as the consumer would)."""
        self.sequence += 1
        await self.deliver("t-1", self.sequence, name, at, **data)

    async def deliver(
        self, ticket: str, sequence: int, name: str, at: datetime | None = None, **data: Any
    ) -> None:
        """Event ``sequence`` of ``ticket`` reaches the notifier."""
        event = CloudEvent(
            id=str(uuid.uuid4()),
            source="/aftercare/ticket",
            type=ce_type(name, 1),
            time=at or self.clock.now(),
            subject=ticket,
            sequence=sequence,
            data={"ticket_id": ticket, **data},
        )
        async with self.store.transaction() as unit:
            await self.notifier.on_ticket_event(unit, event, partition=0)

    def rows(self) -> list[dict[str, Any]]:
        return list(self.store.tables.notifications.values())


@pytest.fixture
def desk() -> Desk:
    clock, store, tickets = FixedClock(T), MemoryNotifierStore(), FakeTickets()
    email = FakeChannel("email")
    notifier = Notifier(
        store,
        clock,
        DEFAULT_CADENCE,
        Templates(ZoneInfo("Asia/Shanghai")),
        tickets,
        FakeDirectory([email]),
        tuning=TUNING,
    )
    return Desk(notifier, store, clock, tickets, email)


async def test_changes_in_the_window_become_one_update_recorded_once(desk: Desk) -> None:
    await desk.event("RequestRaised", priority="normal", urgent=False, language="en")
    await desk.event("Acknowledged", plan="Remote log analysis")
    await desk.event("Diagnosed", findings="Contaminated batch")
    assert await desk.notifier.send_due() == 0  # held for the coalescing window
    desk.clock.advance(timedelta(seconds=10))
    await desk.notifier.send_due()

    [update] = desk.email.delivered
    assert update.document["template"] == "diagnosed"
    [(key, at)] = desk.tickets.recorded
    assert key == update.id
    assert at == T + timedelta(seconds=10)
    [row] = desk.rows()
    assert (row["status"], row["recorded"], row["attempts"]) == ("sent", True, 1)


async def test_a_redelivered_event_changes_nothing(desk: Desk) -> None:
    await desk.event("RequestRaised", priority="normal")
    await desk.event("Acknowledged", plan="p")
    desk.sequence -= 1
    await desk.event("Acknowledged", plan="p")
    assert len(desk.rows()) == 1


async def test_routine_updates_follow_the_cadence_and_stop_while_waiting(desk: Desk) -> None:
    await desk.event("RequestRaised", priority="normal")
    await desk.event("ProgressReported", message="on it")
    desk.clock.advance(timedelta(minutes=54, seconds=59))
    assert await desk.notifier.schedule_progress() == 0
    desk.clock.advance(timedelta(seconds=1))  # 5 min before the T-PROGRESS deadline
    assert await desk.notifier.schedule_progress() == 1
    await desk.notifier.send_due()
    assert [u.document["template"] for u in desk.email.delivered] == ["progress"]
    assert await desk.notifier.schedule_progress() == 0  # owed again 60 min after this one

    await desk.event("CustomerInfoRequested", requested="logs")
    desk.tickets.state = "waiting_on_customer"
    desk.clock.advance(timedelta(hours=3))
    await desk.notifier.send_due()  # the change itself is told
    assert await desk.notifier.schedule_progress() == 0
    assert [u.document["template"] for u in desk.email.delivered] == ["progress", "info_requested"]


async def test_a_failing_channel_is_retried_then_given_up_without_silencing_the_case(
    desk: Desk,
) -> None:
    await desk.event("RequestRaised", priority="urgent", urgent=True)
    await desk.event("Acknowledged", plan="p")
    desk.email.failures_left = 99
    for _ in range(TUNING.max_attempts):
        desk.clock.advance(timedelta(minutes=20))
        await desk.notifier.send_due()
    [row] = desk.rows()
    assert (row["status"], row["attempts"]) == ("failed", TUNING.max_attempts)
    assert "li.na@example.com" not in row["last_error"]  # P-PII
    case = desk.store.tables.cases["t-1"]
    assert case["next_due"] == desk.clock.now() + timedelta(minutes=25)  # 5 min lead


async def test_one_channel_down_still_delivers_on_the_other(desk: Desk) -> None:
    hook = FakeChannel("webhook", recipient="crm.example.com", failures_left=1)
    desk.notifier.channels = FakeDirectory([hook, desk.email])
    await desk.event("RequestRaised", priority="normal")
    await desk.event("Acknowledged", plan="p")
    desk.clock.advance(timedelta(seconds=10))
    await desk.notifier.send_due()
    [row] = desk.rows()
    assert (row["status"], row["channels"]) == ("sent", "email")
    assert row["last_error"].startswith("webhook: ConnectionError")
    assert "li.na@example.com" not in row["last_error"]


async def test_recording_waits_out_the_ticket_service_and_stops_on_a_refusal(
    desk: Desk,
) -> None:
    await desk.event("RequestRaised", priority="normal")
    await desk.event("Acknowledged", plan="p")
    desk.tickets.record_failures = 2
    desk.clock.advance(timedelta(seconds=10))
    await desk.notifier.send_due()
    [row] = desk.rows()
    assert (row["recorded"], row["record_attempts"]) == (False, 1)
    desk.clock.advance(timedelta(seconds=5))
    await desk.notifier.send_due()
    assert desk.rows()[0]["record_attempts"] == 2
    desk.clock.advance(timedelta(seconds=9))
    assert await desk.notifier.send_due() == 0  # backoff doubled: 10 s
    desk.clock.advance(timedelta(seconds=1))
    await desk.notifier.send_due()
    assert desk.rows()[0]["recorded"]
    assert [at for _, at in desk.tickets.recorded] == [T + timedelta(seconds=10)]

    desk.tickets.refuse_records = True
    await desk.event("Diagnosed", findings="f")
    desk.clock.advance(timedelta(seconds=10))
    await desk.notifier.send_due()
    refused = desk.rows()[1]
    assert refused["record_error"] is not None
    assert refused["next_attempt_at"] is None
    assert await desk.notifier.send_due() == 0


async def test_no_routine_update_goes_out_on_a_quiet_ticket(desk: Desk) -> None:
    await desk.event("RequestRaised", priority="normal")
    desk.clock.advance(timedelta(minutes=55))
    assert await desk.notifier.schedule_progress() == 1
    desk.tickets.state = "resolved"  # resolved before the sender got to it
    await desk.notifier.send_due()
    assert desk.email.delivered == []
    assert desk.rows()[0]["status"] == "cancelled"


async def test_the_closing_message_carries_a_signed_survey_link(desk: Desk) -> None:  # Q §七
    from aftercare.customer_links import SurveyLinks
    from aftercare.tokens import verify

    desk.notifier.surveys = SurveyLinks(
        "a-long-enough-secret", "https://survey.example/", desk.clock
    )
    await desk.event("RequestRaised", priority="normal")
    desk.tickets.state = "closed"
    await desk.event("Closed", reason="customer satisfied at revisit (F-6)")
    desk.clock.advance(timedelta(seconds=10))
    await desk.notifier.send_due()
    [closing] = desk.email.delivered
    link = next(word for word in closing.text.split() if word.startswith("https://survey.example/"))
    claims = verify("a-long-enough-secret", link.rsplit("/", 1)[1], desk.clock.now())
    assert (claims["ticket"], claims["lang"]) == ("t-1", "en")


@dataclass
class HeldChannel(FakeChannel):
    """Holds each message on its way until released: a sender stopped meanwhile."""

    on_its_way: asyncio.Event = field(default_factory=asyncio.Event)
    go: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, message: Message) -> None:
        self.on_its_way.set()
        await self.go.wait()
        self.delivered.append(message)


async def test_a_stopping_sender_finishes_the_message_on_its_way_and_hands_back_the_rest(
    desk: Desk,
) -> None:
    held = HeldChannel("email")
    desk.notifier.channels = FakeDirectory([held])
    for ticket in ("t-1", "t-2", "t-3"):
        for sequence, name in enumerate(("RequestRaised", "Acknowledged"), start=1):
            await desk.deliver(ticket, sequence, name, priority="normal", plan="p")
    desk.clock.advance(timedelta(seconds=10))
    sender = asyncio.create_task(desk.notifier.send_due())
    await held.on_its_way.wait()
    sender.cancel()  # SIGTERM while the first message is on its way
    await asyncio.sleep(0)
    held.go.set()
    with pytest.raises(asyncio.CancelledError):
        await sender

    assert len(held.delivered) == 1
    by_status = sorted((row["status"], row["attempts"]) for row in desk.rows())
    assert by_status == [("pending", 0), ("pending", 0), ("sent", 1)]
    waiting = [row for row in desk.rows() if row["status"] == "pending"]
    assert all(row["next_attempt_at"] <= desk.clock.now() for row in waiting)  # due at once
    await desk.notifier.send_due()  # another sender takes them now, not after the lease
    assert len(held.delivered) == 3


async def test_an_update_still_on_its_way_when_the_cadence_falls_due_is_followed_by_one_only(
    desk: Desk,
) -> None:
    """T-PROGRESS: the acknowledgement is still being delivered when the clock passes the
    first routine update (a slow server, a clock that jumped). The cadence waits for it
    and then owes one update, not one per anchor it saw on the way."""
    held = HeldChannel("email")
    desk.notifier.channels = FakeDirectory([held])
    await desk.event("RequestRaised", priority="urgent", urgent=True, language="en")
    desk.clock.advance(timedelta(minutes=2))
    await desk.event("Acknowledged", plan="Remote log analysis")
    desk.clock.advance(TUNING.coalesce)
    sending_ack = asyncio.create_task(desk.notifier.send_due())
    await held.on_its_way.wait()

    desk.clock.set(T + timedelta(minutes=32, seconds=1))
    await desk.notifier.schedule_progress()  # the ack is not marked sent yet
    held.go.set()
    await sending_ack
    held.on_its_way.clear()
    held.go.clear()  # the next update is held on its way too
    sending_next = asyncio.create_task(desk.notifier.send_due())
    on_its_way = asyncio.ensure_future(held.on_its_way.wait())
    await asyncio.wait({sending_next, on_its_way}, return_when=asyncio.FIRST_COMPLETED)
    on_its_way.cancel()
    await desk.notifier.schedule_progress()  # while that one is on its way
    held.go.set()
    await sending_next
    await desk.notifier.send_due()

    templates = [update.document["template"] for update in held.delivered]
    assert templates == ["acknowledged", "progress"]
    sent_at = desk.clock.now()
    assert desk.store.tables.cases["t-1"]["next_due"] == sent_at + timedelta(minutes=25)
