"""On-call paging end to end (issue: on-call paging), on SQLite and PostgreSQL: ticket
events on the embedded broker → the watcher's verdicts → one alert climbing a two-level
chain, paged by e-mail (aiosmtpd) and by a DingTalk robot mention and a signed webhook
(a real HTTP receiver), acknowledged through the link in the page, resolved by itself
when the clock stops, and said so in the group's channels. Time is the injected clock."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.broker import EmbeddedBroker
from aftercare.clock import FixedClock
from aftercare.eventstore import SqlEventStore
from aftercare.topics import TopicSpec, ensure_topics
from aftercare_sla.adapters.policy_file import parse_policy
from aftercare_sla.adapters.publishing import TOPIC_EVENT_TYPES
from aftercare_sla.entrypoints.app import create_sla_app
from aftercare_sla.entrypoints.service import SlaService
from aftercare_system.settings import SystemSettings
from tests.e2e.test_sla_pipeline import FAST, SCHEMAS, ticket_events
from tests.support.kafka import eventually, publish, read_raw, read_topic
from tests.support.receivers import SmtpSink, WebhookReceiver, smtp_sink, webhook_receiver
from tests.support.sla_scenarios import T0, Scenario, ack, later

ROOT = Path(__file__).resolve().parents[2]
ONCALL = """
oncall:
  people:
    li: {name: Li Lei, email: li@desk.example, dingtalk: li-ding}
    lead: {name: Han Meimei, email: lead@desk.example}
  schedules:
    engineers:
      layers:
        - {every: weekly, handoff: "09:00", time_zone: Asia/Shanghai, start: 2026-03-02,
           participants: [li]}
  escalation:
    oncall:
      levels:
        - {notify: [{schedule: engineers}], wait: 10m}
        - {notify: [{person: lead}, {channels: true}], wait: 10m}
      repeat: 1
      acknowledgement_timeout: 1h
"""
MISSED = Scenario("T-EMAIL", channel="email", stop=ack(later(9)))
GRACE = timedelta(seconds=1)


def watcher(
    engine: AsyncEngine, broker: EmbeddedBroker, topics: tuple[str, str], clock: FixedClock,
    hook: WebhookReceiver, smtp: SmtpSink,
) -> SlaService:  # fmt: skip
    environ = {
        "AFTERCARE_ONCALL_WEBHOOK_URL": f"{hook.url}/oncall",
        "AFTERCARE_ONCALL_WEBHOOK_SECRET": "oncall-secret",
        "AFTERCARE_ONCALL_DINGTALK_URL": f"{hook.url}/dingtalk",
        "AFTERCARE_ONCALL_EMAIL": "oncall@example.com",
    }
    text = (ROOT / "deploy" / "sla-policy.yaml").read_text() + ONCALL
    settings = SystemSettings(
        ticket_events_topic=topics[0],
        sla_topic=topics[1],
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        public_url="http://tickets.test",
        oncall_public_url="http://sla.test",
    )
    return SlaService(
        settings, engine, broker.bootstrap_servers, policy=parse_policy(text, "oncall", environ),
        clock=clock, tuning=FAST, serve_http=False, alert_backoff=0.01, relay_idle_wait=0.02,
    )  # fmt: skip


def mail_to(smtp: SmtpSink, address: str) -> list[str]:
    return [str(m["Subject"]) for to, m in smtp.messages if address in to]


def on(hook: WebhookReceiver, path: str) -> list[dict[str, object]]:
    return [r.json() for r in hook.received if r.path == path]


async def test_a_missed_clock_climbs_the_chain_is_acknowledged_by_link_and_resolves(
    engine: AsyncEngine, broker: EmbeddedBroker, topic: str
) -> None:
    sla_topic = f"ticket.sla.test-{uuid.uuid4().hex[:8]}"
    await ensure_topics(broker.bootstrap_servers, [TopicSpec(sla_topic, 4)])
    clock = FixedClock(T0)
    await publish(broker.bootstrap_servers, topic, ticket_events("tk-page", MISSED, met=False))
    async with webhook_receiver() as hook, smtp_sink() as smtp:
        service = watcher(engine, broker, (topic, sla_topic), clock, hook, smtp)
        await service.start()
        try:
            await eventually(lambda: service.consumer.stats.processed == 1, within=30)
            # The warning (8 of 10 minutes): level 1, the engineer on call, by mail and mention.
            clock.set(later(8) + GRACE)
            await eventually(lambda: len(mail_to(smtp, "li@desk.example")) == 1, within=15)
            [mention] = on(hook, "/dingtalk")
            assert mention["at"] == {"atUserIds": ["li-ding"], "isAtAll": False}
            assert on(hook, "/oncall") == []  # no page per verdict for a group with a chain
            # The breach: the same alert, now a breach, pages level 1 again.
            clock.set(later(10) + GRACE)
            await eventually(lambda: len(mail_to(smtp, "li@desk.example")) == 2, within=15)
            assert "[SLA BREACHED]" in mail_to(smtp, "li@desk.example")[1]
            # Nobody answers for 10 minutes: level 2, the lead and every channel.
            clock.set(later(20) + GRACE)
            await eventually(lambda: len(mail_to(smtp, "lead@desk.example")) == 1, within=15)
            await eventually(lambda: len(on(hook, "/oncall")) == 1, within=15)
            assert on(hook, "/oncall")[0]["type"] == "oncall.AlertEscalated"
            await eventually(
                lambda: bool(mail_to(smtp, "oncall@example.com")), within=15
            )  # the group's mailing list too

            await the_lead_acknowledges_by_the_link(service, smtp, clock)
            await eventually(lambda: len(on(hook, "/oncall")) == 2, within=15)
            assert on(hook, "/oncall")[1]["type"] == "oncall.AlertAcknowledged"
            # At 40 minutes the chain's second round would have paged li again: it does not.
            answered = Scenario("T-EMAIL", channel="email", stop=ack(later(41)))
            clock.set(later(41) + GRACE)
            late = ticket_events("tk-page", answered, met=True)[-1:]
            await publish(broker.bootstrap_servers, topic, late)
            await eventually(lambda: len(on(hook, "/oncall")) == 3, within=15)
            resolved = on(hook, "/oncall")[2]
            assert resolved["type"] == "oncall.AlertResolved"
            assert resolved["state"] == "resolved"
            recorded = await SqlEventStore(engine).read_all(types=TOPIC_EVENT_TYPES)
            await eventually(lambda: service.relay.stats.published >= len(recorded), within=15)
        finally:
            await service.stop()
    assert len(mail_to(smtp, "li@desk.example")) == 2  # no second round after the ack
    assert len(mail_to(smtp, "lead@desk.example")) == 1
    [listed] = await service.keeper.store.listed("resolved", "oncall", 10)
    assert listed.ticket_id == "tk-page"
    await the_alert_is_on_the_topic_for_integrators(broker, topic, sla_topic, service)


async def the_alert_is_on_the_topic_for_integrators(
    broker: EmbeddedBroker, ticket_topic: str, sla_topic: str, service: SlaService
) -> None:
    raw = await read_raw(broker.bootstrap_servers, sla_topic, service.relay.stats.published)
    assert {record.key for record in raw} == {b"tk-page"}  # keyed by the ticket
    [ticket_partition] = {p for p, _ in await read_topic(broker.bootstrap_servers, ticket_topic, 1)}
    assert {record.partition for record in raw} == {ticket_partition}  # co-partitioned
    published = await read_topic(
        broker.bootstrap_servers, sla_topic, expect=service.relay.stats.published
    )
    alerts = [e for _, e in published if ".Alert" in e.type]
    names = [e.type.removeprefix("com.aftercare.sla.").split(".")[0] for e in alerts]
    assert names == [
        "AlertTriggered", "AlertEscalated", "AlertUrgencyRaised", "AlertEscalated",
        "AlertEscalated", "AlertAcknowledged", "AlertResolved",
    ]  # fmt: skip
    for event in alerts:
        assert event.subject == "tk-page"  # keyed with the ticket's verdicts
        assert event.dataschema is not None
        schema = json.loads((SCHEMAS / event.dataschema.rsplit("/", 1)[1]).read_text())
        Draft202012Validator(schema, format_checker=FormatChecker()).validate(event.data)


async def the_lead_acknowledges_by_the_link(
    service: SlaService, smtp: SmtpSink, clock: FixedClock
) -> None:
    [(_, page)] = [(to, m) for to, m in smtp.messages if "lead@desk.example" in to]
    body = page.get_body(preferencelist=("plain",))
    assert body is not None
    link = re.search(r"http://sla\.test(/alerts/ack/\S+)", body.get_content())
    assert link is not None
    app = create_sla_app(
        service.engine,
        clock,
        service.settings.key_ring,
        alerts=(service.keeper, service.links, service.ack_page),
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sla.test") as browser:
        shown = await browser.get(link.group(1))
        assert shown.status_code == 200
        assert "Acknowledge</button>" in shown.text
        assert "T-EMAIL" in shown.text
        # What was paged when (in the desk's time), the ticket, and nothing to run.
        assert "09:08:01 CST — triggered (warning)" in shown.text
        assert "level 1, round 1: paged Li Lei" in shown.text
        assert "level 2, round 1: paged Han Meimei and the group&#x27;s channels" in shown.text
        assert 'href="http://tickets.test/console/tickets/tk-page"' in shown.text
        assert "<script" not in shown.text
        assert "frame-ancestors 'none'" in shown.headers["content-security-policy"]
        assert shown.headers["referrer-policy"] == "no-referrer"  # the token stays here
        clicked = await browser.post(link.group(1))
        assert clicked.status_code == 200
        assert "Acknowledged by Han Meimei." in clicked.text
        assert "acknowledged by Han Meimei (link)" in clicked.text
        forged = await browser.get(link.group(1)[:-3] + "abc")
        assert forged.status_code == 410
        assert "expired or is not valid" in forged.text
