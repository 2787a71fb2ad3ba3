"""The notifier on both databases, against the real ticket app and real receivers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.auth import KeyRing, parse_api_keys
from aftercare.clock import FixedClock
from aftercare.cloudevents import CloudEvent
from aftercare.eventstore import SqlEventStore
from aftercare.mail import SmtpSettings
from aftercare_notifier.adapters.channels import CustomerChannels
from aftercare_notifier.adapters.sql_store import SqlNotifierStore
from aftercare_notifier.adapters.tables import notifications
from aftercare_notifier.adapters.templates import Templates
from aftercare_notifier.adapters.ticket_api import TicketApi
from aftercare_notifier.domain.cadence import DEFAULT_CADENCE
from aftercare_notifier.entrypoints.app import create_notifier_app
from aftercare_notifier.service_layer.notifier import Notifier
from aftercare_notifier.service_layer.tuning import NotifierTuning
from aftercare_system.settings import SystemSettings
from aftercare_ticket.adapters.publishing import ticket_cloudevent
from aftercare_ticket.entrypoints.app import create_app
from tests.support.receivers import SmtpSink, WebhookReceiver, smtp_sink, webhook_receiver

KEYS = "admin-key=admin,notifier-key=notifier"
WINDOW = timedelta(seconds=10)


@pytest.fixture
async def ticket_app(engine: AsyncEngine, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(SystemSettings(api_keys=KEYS), engine=engine, clock=clock)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://tickets",
        headers={"Authorization": "Bearer admin-key"},
    ) as client:
        yield client


@pytest.fixture
async def receivers() -> AsyncIterator[tuple[SmtpSink, WebhookReceiver]]:
    async with smtp_sink() as smtp, webhook_receiver() as hook:
        yield smtp, hook


def make_notifier(
    engine: AsyncEngine,
    clock: FixedClock,
    ticket_app: httpx.AsyncClient,
    smtp: SmtpSink,
    hook: WebhookReceiver | None = None,
) -> Notifier:
    webhooks = {"CUST-HOOK": {"url": f"{hook.url}/customer"}} if hook else {}
    return Notifier(
        SqlNotifierStore(engine),
        clock,
        DEFAULT_CADENCE,
        Templates(ZoneInfo("Asia/Shanghai")),
        TicketApi("http://tickets", "notifier-key", ticket_app),
        CustomerChannels(
            SmtpSettings("127.0.0.1", smtp.port, "support@aftercare.test"),
            webhooks,
            httpx.AsyncClient(timeout=10),
        ),
        tuning=NotifierTuning(coalesce=WINDOW, retry_backoff=timedelta(seconds=5)),
    )


async def raise_ticket(api: httpx.AsyncClient, customer: str = "CUST-1") -> str:
    body = {
        "kind": "support",
        "channel": "email",
        "customer": {
            "id": customer,
            "name": "Li Na",
            "email": "li.na@example.com",
            "language": "en",
        },
        "product": {"sku": "WF-200"},
        "subject": "Yield dropped",
        "description": "From 92% to 70%",
    }
    response = await api.post("/tickets", json=body)
    assert response.status_code == 201
    ticket_id: str = response.json()["id"]
    return ticket_id


async def published(engine: AsyncEngine, ticket_id: str, after: int = 0) -> list[CloudEvent]:
    recorded = await SqlEventStore(engine).read_stream(ticket_id)
    return [e for e in (ticket_cloudevent(r) for r in recorded[after:]) if e is not None]


async def deliver(notifier: Notifier, events: list[CloudEvent]) -> None:
    async with notifier.store.transaction() as unit:  # one consumer batch
        for event in events:
            await notifier.on_ticket_event(unit, event, partition=0)


async def rows(engine: AsyncEngine, ticket_id: str) -> list[Any]:
    async with engine.connect() as connection:
        result = await connection.execute(
            select(notifications).where(notifications.c.ticket_id == ticket_id)
        )
        return list(result.all())


ACK = {"plan": "Remote log analysis", "expected_resolution_at": "2026-03-05T09:00:00Z"}


async def test_a_replayed_backlog_becomes_one_update_about_the_latest_change(
    engine: AsyncEngine,
    clock: FixedClock,
    ticket_app: httpx.AsyncClient,
    receivers: tuple[SmtpSink, WebhookReceiver],
) -> None:
    smtp, _ = receivers
    ticket = await raise_ticket(ticket_app)
    await ticket_app.post(f"/tickets/{ticket}/acknowledge", json=ACK)
    await ticket_app.post(
        f"/tickets/{ticket}/diagnose", json={"findings": "Contaminated batch", "method": "remote"}
    )
    await ticket_app.post(
        f"/tickets/{ticket}/provide-workaround", json={"description": "Use the old batch"}
    )
    notifier = make_notifier(engine, clock, ticket_app, smtp)
    await deliver(notifier, await published(engine, ticket))
    assert await notifier.send_due() == 0  # held for the coalescing window
    clock.advance(WINDOW)
    assert await notifier.send_due() == 1
    [(recipients, message)] = smtp.messages
    assert recipients == ["li.na@example.com"]
    assert str(message["Subject"]) == f"A temporary measure for {ticket}"
    body = message.get_content()
    assert "Use the old batch" in body
    assert "Where it stands: diagnosed" in body
    [row] = await rows(engine, ticket)
    assert (row.status, row.template, row.recorded, row.recipients) == (
        "sent",
        "workaround",
        True,
        "l***@example.com",
    )
    history = (await ticket_app.get(f"/tickets/{ticket}/events")).json()["events"]
    [report] = [e for e in history if e["type"] == "ProgressReported"]
    assert report["data"]["report_key"] == row.id

    # The same events again (a redelivery) queue nothing new.
    await deliver(notifier, await published(engine, ticket))
    clock.advance(WINDOW)
    await notifier.send_due()
    assert len(smtp.messages) == 1


async def test_old_history_updates_the_case_but_sends_nothing(
    engine: AsyncEngine,
    clock: FixedClock,
    ticket_app: httpx.AsyncClient,
    receivers: tuple[SmtpSink, WebhookReceiver],
) -> None:
    smtp, _ = receivers
    ticket = await raise_ticket(ticket_app)
    await ticket_app.post(f"/tickets/{ticket}/acknowledge", json=ACK)
    clock.advance(timedelta(days=3))  # a first start reading days-old events
    notifier = make_notifier(engine, clock, ticket_app, smtp)
    await deliver(notifier, await published(engine, ticket))
    assert await rows(engine, ticket) == []
    # The case is known, so its routine update is due and goes out once.
    assert await notifier.schedule_progress() == 1
    assert await notifier.schedule_progress() == 0
    await notifier.send_due()
    assert [str(m["Subject"]) for _, m in smtp.messages] == [f"Progress on your request {ticket}"]


async def test_a_failing_channel_is_retried_with_backoff(
    engine: AsyncEngine,
    clock: FixedClock,
    ticket_app: httpx.AsyncClient,
    receivers: tuple[SmtpSink, WebhookReceiver],
) -> None:
    smtp, hook = receivers
    hook.failures_left = 1
    ticket = await raise_ticket(ticket_app, customer="CUST-HOOK")
    await ticket_app.post(f"/tickets/{ticket}/acknowledge", json=ACK)
    notifier = make_notifier(engine, clock, ticket_app, smtp, hook)
    assert isinstance(notifier.channels, CustomerChannels)
    notifier.channels.smtp = None  # the webhook is this customer's only channel
    await deliver(notifier, await published(engine, ticket))
    clock.advance(WINDOW)
    await notifier.send_due()
    [row] = await rows(engine, ticket)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "503" in row.last_error
    assert row.next_attempt_at == clock.now() + timedelta(seconds=5)
    clock.advance(timedelta(seconds=5))
    await notifier.send_due()
    [row] = await rows(engine, ticket)
    assert (row.status, row.attempts, row.channels) == ("sent", 2, "webhook")
    assert [r.json()["template"] for r in hook.received] == ["acknowledged"]


async def test_an_update_is_recorded_on_the_ticket_once_the_ticket_service_is_back(
    engine: AsyncEngine,
    clock: FixedClock,
    ticket_app: httpx.AsyncClient,
    receivers: tuple[SmtpSink, WebhookReceiver],
) -> None:
    smtp, _ = receivers
    ticket = await raise_ticket(ticket_app)
    await ticket_app.post(f"/tickets/{ticket}/acknowledge", json=ACK)
    notifier = make_notifier(engine, clock, ticket_app, smtp)
    await deliver(notifier, await published(engine, ticket))
    clock.advance(WINDOW)

    real = notifier.api.record_progress

    async def unavailable(*_: Any, **__: Any) -> None:
        raise httpx.ConnectError("ticket service down")

    notifier.api.record_progress = unavailable  # type: ignore[method-assign]
    await notifier.send_due()
    [row] = await rows(engine, ticket)
    assert (row.status, row.recorded) == ("sent", False)
    assert row.next_attempt_at == clock.now() + timedelta(seconds=5)  # backs off
    notifier.api.record_progress = real  # type: ignore[method-assign]
    await notifier.send_due()
    [row] = await rows(engine, ticket)
    assert not row.recorded  # not before the backoff is over
    clock.advance(timedelta(seconds=5))
    await notifier.send_due()
    [row] = await rows(engine, ticket)
    assert row.recorded
    assert len(smtp.messages) == 1  # recorded later, not sent twice


async def test_a_record_refused_for_good_is_not_asked_again(
    engine: AsyncEngine,
    clock: FixedClock,
    ticket_app: httpx.AsyncClient,
    receivers: tuple[SmtpSink, WebhookReceiver],
) -> None:
    """The ticket service was away for longer than the backdating window (B-TIME-ORDER):
    the update went out, its record never will be taken. Ask once, keep the reason."""
    smtp, _ = receivers
    ticket = await raise_ticket(ticket_app)
    await ticket_app.post(f"/tickets/{ticket}/acknowledge", json=ACK)
    notifier = make_notifier(engine, clock, ticket_app, smtp)
    await deliver(notifier, await published(engine, ticket))
    clock.advance(WINDOW)
    real = notifier.api.record_progress
    calls: list[str] = []

    async def unavailable(*_: Any, **__: Any) -> None:
        raise httpx.ConnectError("ticket service down")

    async def counted(*args: Any, **kwargs: Any) -> None:
        calls.append(args[0])
        await real(*args, **kwargs)

    notifier.api.record_progress = unavailable  # type: ignore[method-assign]
    await notifier.send_due()
    clock.advance(timedelta(days=31))
    notifier.api.record_progress = counted  # type: ignore[method-assign]
    for _ in range(5):
        await notifier.send_due()
        clock.advance(timedelta(hours=1))
    [row] = await rows(engine, ticket)
    assert (row.status, row.recorded) == ("sent", False)
    assert "422" in row.record_error
    assert calls == [ticket]  # asked once, never again


async def test_updates_to_a_declined_ticket_are_recorded_once(
    engine: AsyncEngine,
    clock: FixedClock,
    ticket_app: httpx.AsyncClient,
    receivers: tuple[SmtpSink, WebhookReceiver],
) -> None:
    smtp, _ = receivers
    ticket = await raise_ticket(ticket_app)
    declined = await ticket_app.post(
        f"/tickets/{ticket}/decline",
        json={"rule": "B-WARRANTY-SCOPE", "explanation": "Damage by misuse is not covered"},
    )
    assert declined.status_code == 200, declined.text
    notifier = make_notifier(engine, clock, ticket_app, smtp)
    await deliver(notifier, await published(engine, ticket))
    clock.advance(WINDOW)
    await notifier.send_due()
    [row] = await rows(engine, ticket)
    assert (row.status, row.recorded, row.record_error) == ("sent", True, None)
    history = (await ticket_app.get(f"/tickets/{ticket}/events")).json()["events"]
    assert history[-1]["type"] == "ProgressReported"


async def test_a_refusing_mail_server_leaks_no_address(
    engine: AsyncEngine,
    clock: FixedClock,
    ticket_app: httpx.AsyncClient,
    receivers: tuple[SmtpSink, WebhookReceiver],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """P-PII: a 550 quotes the recipient; what every role reads, and the log, must not."""
    smtp, _ = receivers
    smtp.refuse = True
    ticket = await raise_ticket(ticket_app)
    await ticket_app.post(f"/tickets/{ticket}/acknowledge", json=ACK)
    notifier = make_notifier(engine, clock, ticket_app, smtp)
    await deliver(notifier, await published(engine, ticket))
    for _ in range(8):
        clock.advance(timedelta(minutes=20))
        await notifier.send_due()
    [row] = await rows(engine, ticket)
    assert row.status == "failed"
    assert "550" in row.last_error
    assert "l***@example.com" in row.last_error
    app = create_notifier_app(engine, KeyRing(parse_api_keys("r=reader")))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://notifier"
    ) as reader:
        listed = await reader.get("/notifications", headers={"Authorization": "Bearer r"})
    assert listed.json()[0]["status"] == "failed"
    logged = capsys.readouterr()
    for text in (listed.text, logged.out, logged.err, caplog.text):
        assert "li.na@example.com" not in text
        assert "Li Na" not in text
