"""Customers kept informed, end to end: the ticket API over HTTP, its relay to the embedded
broker, the notifier, a real SMTP server and a real webhook receiver, one injected clock.

An urgent English-speaking customer (with their own system on a webhook) hears every 30
minutes, a normal Chinese-speaking one every 60; both hear at once when something
happens; nobody hears routine updates while we wait for them or after the case closes;
every update is recorded on the ticket; a restarted notifier that reads the whole topic
again sends nothing twice; a phone-only customer's update fails visibly.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.broker import EmbeddedBroker, free_port
from aftercare.clock import FixedClock
from aftercare.consumer import ConsumerTuning
from aftercare.relay import OutboxRelay
from aftercare.webhooks import sign_webhook
from aftercare_notifier.entrypoints.app import create_notifier_app
from aftercare_notifier.entrypoints.service import NotifierService
from aftercare_notifier.service_layer.tuning import NotifierTuning
from aftercare_system.settings import SystemSettings
from aftercare_ticket.adapters.publishing import ticket_cloudevent
from aftercare_ticket.entrypoints.app import create_app
from tests.support.kafka import eventually
from tests.support.receivers import SmtpSink, WebhookReceiver, smtp_sink, webhook_receiver
from tests.support.sla_scenarios import local

FAST = ConsumerTuning(session_timeout_ms=2000, heartbeat_interval_ms=500, max_wait=0.05)
T = local("2026-03-02 09:00")
KEYS = "admin-key=admin,notifier-key=notifier"
ADMIN = {"Authorization": "Bearer admin-key"}


@contextlib.asynccontextmanager
async def ticket_api(
    settings: SystemSettings, engine: AsyncEngine, clock: FixedClock
) -> AsyncIterator[str]:
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, engine=engine, clock=clock),
            host="127.0.0.1",
            port=settings.http_port,
            log_level="warning",
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.01)
    try:
        yield settings.base_url
    finally:
        server.should_exit = True
        await task


def notifier(
    settings: SystemSettings,
    engine: AsyncEngine,
    broker: EmbeddedBroker,
    clock: FixedClock,
    group: str,
) -> NotifierService:
    return NotifierService(
        settings,
        engine,
        broker.bootstrap_servers,
        clock=clock,
        tuning=FAST,
        notifier_tuning=NotifierTuning(coalesce=timedelta(0), retry_backoff=timedelta(seconds=1)),
        serve_http=False,
        sender_idle_wait=0.02,
        group_id=group,
    )


def raise_body(customer: str, language: str, email: str | None, urgent: bool) -> dict[str, Any]:
    contact: dict[str, Any] = {"id": customer, "name": f"Customer {customer}", "language": language}
    if email:
        contact["email"] = email
    else:
        contact["phone"] = "+86 512 0000 0000"
    return {
        "kind": "support",
        "channel": "email" if email else "phone",
        "urgent": urgent,
        "priority": "urgent" if urgent else "normal",
        "customer": contact,
        "product": {"sku": "WF-200"},
        "subject": f"Yield dropped for {customer}",
        "description": "Yield fell from 92% to 70%",
    }


def mails_for(smtp: SmtpSink, ticket_id: str) -> list[str]:
    return [str(m["Subject"]) for _, m in smtp.messages if m["X-Aftercare-Ticket"] == ticket_id]


@dataclass
class Desk:
    """The running system as the test drives it: the API, the clock, the receivers."""

    api: httpx.AsyncClient
    clock: FixedClock
    smtp: SmtpSink
    urgent: str = ""
    normal: str = ""
    phone: str = ""

    async def command(self, ticket: str, name: str, body: dict[str, Any]) -> None:
        response = await self.api.post(f"/tickets/{ticket}/{name}", json=body)
        assert response.status_code == 200, response.text

    async def updates_reach(self, ticket: str, count: int) -> None:
        await eventually(
            lambda: len(mails_for(self.smtp, ticket)) >= count,
            within=20,
            message=f"{count} updates for {ticket}",
        )

    async def raise_ticket(self, *body: Any) -> str:
        ticket_id: str = (await self.api.post("/tickets", json=raise_body(*body))).json()["id"]
        return ticket_id


async def three_customers_are_acknowledged(desk: Desk) -> None:
    """Acknowledged (F-2): each customer hears at once, in their language."""
    desk.urgent = await desk.raise_ticket("CUST-URGENT", "en", "li.na@example.com", True)
    desk.normal = await desk.raise_ticket("CUST-NORMAL", "zh-CN", "wang.wei@example.com", False)
    desk.phone = await desk.raise_ticket("CUST-PHONE", "zh-CN", None, False)
    desk.clock.set(T + timedelta(minutes=2))
    plan = {
        "plan": "Remote log analysis",
        "expected_resolution_at": (T + timedelta(days=1)).isoformat(),
    }
    for ticket in (desk.urgent, desk.normal, desk.phone):
        await desk.command(ticket, "acknowledge", plan)
    await desk.updates_reach(desk.urgent, 1)
    await desk.updates_reach(desk.normal, 1)


async def the_cadence_is_30_minutes_urgent_and_60_normal(desk: Desk) -> None:
    """Routine updates every 30 or 60 minutes from the last update (T-PROGRESS)."""
    desk.clock.set(T + timedelta(minutes=32, seconds=1))
    await desk.updates_reach(desk.urgent, 2)
    desk.clock.set(T + timedelta(minutes=62, seconds=1))
    await desk.updates_reach(desk.urgent, 3)
    await desk.updates_reach(desk.normal, 2)


async def waiting_on_the_customer_is_told_then_quiet(desk: Desk) -> None:
    await desk.command(desk.normal, "request-info", {"requested": "the process logs"})
    await desk.updates_reach(desk.normal, 3)
    desk.clock.set(T + timedelta(hours=3))
    await desk.updates_reach(desk.urgent, 4)  # one update for the time that passed, no storm
    await asyncio.sleep(0.3)


async def resolved_and_closed_are_told_then_nothing_more(desk: Desk) -> None:
    await desk.command(
        desk.urgent, "diagnose", {"findings": "Contaminated batch", "method": "remote"}
    )
    await desk.updates_reach(desk.urgent, 5)
    verification = {"method": "Yield test", "result": "92%", "passed": True}
    await desk.command(
        desk.urgent, "resolve", {"solution": "Replaced the batch", "verification": verification}
    )
    await desk.updates_reach(desk.urgent, 6)
    await desk.command(desk.urgent, "revisit", {"satisfaction": 5})
    await desk.updates_reach(desk.urgent, 7)
    desk.clock.set(T + timedelta(hours=6))
    await asyncio.sleep(0.5)


async def a_restarted_notifier_sends_nothing_twice(
    first: NotifierService, again: NotifierService, smtp: SmtpSink
) -> None:
    """It reads the whole topic again: every event is a duplicate or changes nothing."""
    before = len(smtp.messages)
    await again.start()
    try:
        await eventually(lambda: again.consumer.stats.duplicates > 0, within=20)
        await eventually(
            lambda: (
                again.consumer.stats.duplicates + again.consumer.stats.processed
                >= first.consumer.stats.processed
            ),
            within=20,
        )
        await asyncio.sleep(0.5)
    finally:
        await again.stop()
    assert len(smtp.messages) == before


def each_customer_got_what_they_should(desk: Desk, hook: WebhookReceiver) -> None:
    urgent, normal = desk.urgent, desk.normal
    assert mails_for(desk.smtp, urgent) == [
        f"We are on your request {urgent}",
        f"Progress on your request {urgent}",
        f"Progress on your request {urgent}",
        f"Progress on your request {urgent}",
        f"We found the cause of {urgent}",
        f"Your request {urgent} is resolved",
        f"Your request {urgent} is closed",
    ]
    assert mails_for(desk.smtp, normal) == [
        f"您的服务请求 {normal} 已受理",
        f"服务请求 {normal} 处理进展",
        f"服务请求 {normal} 需要您补充信息",
    ]
    assert mails_for(desk.smtp, desk.phone) == []
    # The customer's own system got the same updates, signed.
    received = [r for r in hook.received if r.path == "/customer"]
    assert [r.json()["subject"] for r in received] == mails_for(desk.smtp, urgent)
    for request in received:
        assert request.headers["x-aftercare-signature"] == sign_webhook(
            "their-secret", request.headers["x-aftercare-timestamp"], request.body
        )


def every_update_is_on_the_ticket(desk: Desk, histories: dict[str, list[Any]]) -> None:
    """Every update sent is a ProgressReported on the ticket (T-PROGRESS, M-PROGRESS)."""
    for ticket, expected in ((desk.urgent, 7), (desk.normal, 3), (desk.phone, 0)):
        reports = [e for e in histories[ticket] if e["type"] == "ProgressReported"]
        assert len(reports) == expected, ticket
    urgent_reports = [e for e in histories[desk.urgent] if e["type"] == "ProgressReported"]
    assert {r["data"]["channel"] for r in urgent_reports} == {"webhook"}


def the_notifications_list_tells_what_went_where(desk: Desk, listed: dict[str, Any]) -> None:
    sent = listed[desk.urgent]
    assert {(n["status"], n["recorded"]) for n in sent} == {("sent", True)}
    assert all(n["recipients"] == "127.0.0.1, l***@example.com" for n in sent)
    assert isinstance(datetime.fromisoformat(sent[0]["sent_at"]), datetime)
    # The phone-only customer cannot be reached: each attempt is on record, with the reason.
    assert listed[desk.phone]
    for failed in listed[desk.phone]:
        assert failed["status"] == "failed"
        assert "no channel reaches this customer" in failed["last_error"]
        assert failed["recorded"] is False


async def notifications_of(
    engine: AsyncEngine, settings: SystemSettings, tickets: list[str]
) -> dict[str, Any]:
    transport = httpx.ASGITransport(app=create_notifier_app(engine, settings.key_ring))
    async with httpx.AsyncClient(transport=transport, base_url="http://n", headers=ADMIN) as n:
        return {t: (await n.get("/notifications", params={"ticket_id": t})).json() for t in tickets}


async def test_customers_are_kept_informed_end_to_end(
    engine: AsyncEngine, broker: EmbeddedBroker, topic: str
) -> None:
    clock = FixedClock(T)
    async with webhook_receiver() as hook, smtp_sink() as smtp:
        settings = SystemSettings(
            api_keys=KEYS,
            http_port=free_port(),
            ticket_events_topic=topic,
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
            notifier_api_key="notifier-key",
            notifier_customer_webhooks={
                "CUST-URGENT": {"url": f"{hook.url}/customer", "secret": "their-secret"}
            },
        )
        relay = OutboxRelay(
            engine, broker.bootstrap_servers, topic, ticket_cloudevent, idle_wait=0.02
        )
        relay_task = asyncio.create_task(relay.run())
        async with (
            ticket_api(settings, engine, clock) as url,
            httpx.AsyncClient(base_url=url, headers=ADMIN) as api,
        ):
            desk = Desk(api, clock, smtp)
            service = notifier(settings, engine, broker, clock, f"notifier-{topic}")
            await service.start()
            try:
                await three_customers_are_acknowledged(desk)
                await the_cadence_is_30_minutes_urgent_and_60_normal(desk)
                await waiting_on_the_customer_is_told_then_quiet(desk)
                await resolved_and_closed_are_told_then_nothing_more(desk)
            finally:
                await service.stop()
            again = notifier(settings, engine, broker, clock, f"notifier-again-{topic}")
            await a_restarted_notifier_sends_nothing_twice(service, again, smtp)
            tickets = [desk.urgent, desk.normal, desk.phone]
            histories = {
                t: (await api.get(f"/tickets/{t}/events")).json()["events"] for t in tickets
            }
        relay_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relay_task
        listed = await notifications_of(engine, settings, tickets)

    each_customer_got_what_they_should(desk, hook)
    every_update_is_on_the_ticket(desk, histories)
    the_notifications_list_tells_what_went_where(desk, listed)
