"""Every clock of the standards through the real pipeline: ticket events on the embedded
broker → watcher → verdicts on ``ticket.sla.v1`` → on-call paged by webhook and email.

For each T-* rule one ticket meets the target (→ SlaMet, no breach) and one never gets
the event that would stop it: the injected clock walks past its warning point and its
deadline (→ SlaWarning, then one SlaBreached, and an alert on both channels). The last
deadline passes while the watcher is stopped; the restarted one reports it once.
"""

from __future__ import annotations

import asyncio
import functools
import json
import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.broker import EmbeddedBroker
from aftercare.clock import FixedClock
from aftercare.cloudevents import CloudEvent
from aftercare.consumer import ConsumerTuning
from aftercare.topics import TopicSpec, ensure_topics
from aftercare.webhooks import sign_webhook
from aftercare_sla.adapters.policy_file import parse_policy
from aftercare_sla.adapters.tables import sla_timers
from aftercare_sla.entrypoints.service import SlaService
from aftercare_system.settings import SystemSettings
from tests.support.kafka import eventually, publish, read_topic
from tests.support.receivers import SmtpSink, WebhookReceiver, smtp_sink, webhook_receiver
from tests.support.sla_scenarios import REFUND, SCENARIOS, Scenario, ack, event, later, local

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas" / "events"
FAST = ConsumerTuning(session_timeout_ms=2000, heartbeat_interval_ms=500, max_wait=0.05)
SECRET = "oncall-secret"
START = local("2026-02-12 08:00")

# Deadlines that must move: working days across the Spring Festival, and a wait on the
# customer (90 → 150 min) that pushes a 4-hour resolution target back by an hour.
MOVED: dict[str, tuple[Scenario, datetime]] = {
    "holiday-T-REFUND": (
        Scenario(
            "T-REFUND",
            kind="refund",
            raised_at=local("2026-02-12 09:00"),
            steps=[
                ack(local("2026-02-12 09:05")),
                event(local("2026-02-12 09:10"), "RefundApproved", **REFUND),
            ],
        ),
        local("2026-02-25 00:00"),  # Fri 13, Sat 14 (worked), festival off, Tue 24
    ),
    "pause-T-RESOLVE-GENERAL": (
        Scenario(
            "T-RESOLVE-GENERAL",
            steps=[
                ack(later(5)),
                event(later(60), "Diagnosed", complexity="general"),
                event(later(90), "CustomerInfoRequested", paused_from="diagnosed"),
                event(later(150), "CustomerInfoProvided", resumed_to="diagnosed"),
            ],
        ),
        later(hours=5),
    ),
}


def ticket_events(ticket_id: str, scenario: Scenario, met: bool) -> list[CloudEvent]:
    return [
        CloudEvent(
            id=str(uuid.uuid4()),
            source="/aftercare/ticket",
            type=f"com.aftercare.ticket.{fact.type}.v1",
            time=fact.at,
            subject=ticket_id,
            sequence=fact.sequence,
            data={**fact.data, "ticket_id": ticket_id},
        )
        for fact in scenario.facts(met=met)
    ]


def service(
    engine: AsyncEngine,
    broker: EmbeddedBroker,
    topics: tuple[str, str],
    clock: FixedClock,
    hook: WebhookReceiver,
    smtp: SmtpSink,
) -> SlaService:
    environ = {
        "AFTERCARE_ONCALL_WEBHOOK_URL": f"{hook.url}/oncall",
        "AFTERCARE_ONCALL_WEBHOOK_SECRET": SECRET,
        "AFTERCARE_ONCALL_EMAIL": "oncall@example.com",
        "AFTERCARE_COMPLAINTS_WEBHOOK_URL": f"{hook.url}/complaints",
        "AFTERCARE_COMPLAINTS_WEBHOOK_SECRET": SECRET,
        "AFTERCARE_COMPLAINTS_EMAIL": "complaints@example.com",
    }
    policy = parse_policy((ROOT / "deploy" / "sla-policy.yaml").read_text(), "default", environ)
    settings = SystemSettings(
        ticket_events_topic=topics[0],
        sla_topic=topics[1],
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        public_url="http://tickets.test",
    )
    return SlaService(
        settings,
        engine,
        broker.bootstrap_servers,
        policy=policy,
        clock=clock,
        tuning=FAST,
        serve_http=False,
        alert_backoff=0.01,
        relay_idle_wait=0.02,
    )


async def timer_row(engine: AsyncEngine, ticket_id: str, rule: str) -> Any:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(sla_timers)
            .where(sla_timers.c.ticket_id == ticket_id, sla_timers.c.rule == rule)
            .order_by(sla_timers.c.cycle)
        )
        return rows.first()


def every_scenario_published() -> list[CloudEvent]:
    """Each target met once and missed once, and the tickets whose deadline moves."""
    published: list[CloudEvent] = []
    for scenario in SCENARIOS:
        published += ticket_events(f"met-{scenario.rule}", scenario, met=True)
        published += ticket_events(f"miss-{scenario.rule}", scenario, met=False)
    for ticket_id, (scenario, _) in MOVED.items():
        published += ticket_events(ticket_id, scenario, met=False)
    return published


Step = tuple[datetime, str, str, str]


async def the_instants_to_visit(engine: AsyncEngine) -> list[Step]:
    """Each missed target's warning instant, then its deadline, in time order; the
    moved deadlines are where the scenarios say."""
    watched = [(f"miss-{s.rule}", s.rule) for s in SCENARIOS]
    watched += [(ticket_id, scenario.rule) for ticket_id, (scenario, _) in MOVED.items()]
    steps: list[Step] = []
    for ticket_id, rule in watched:
        row = await timer_row(engine, ticket_id, rule)
        assert row.status == "running", ticket_id
        steps.append((row.warn_at, ticket_id, rule, "SlaWarning"))
        steps.append((row.deadline, ticket_id, rule, "SlaBreached"))
    for ticket_id, (scenario, deadline) in MOVED.items():
        assert (await timer_row(engine, ticket_id, scenario.rule)).deadline == deadline
    return sorted(steps)


async def each_verdict_is_paged_as_time_passes(
    clock: FixedClock, hook: WebhookReceiver, steps: list[Step]
) -> None:
    for instant, ticket_id, rule, verdict in steps:
        clock.set(instant + timedelta(seconds=1))
        await eventually(
            functools.partial(_announced, hook, ticket_id, rule, verdict),
            within=15,
            message=f"{verdict} of {rule} on {ticket_id} paged",
        )


async def a_restarted_watcher_pages_the_breach_it_slept_through(
    restarted: SlaService, hook: WebhookReceiver, step: Step
) -> None:
    _, ticket_id, rule, _ = step
    await restarted.start()
    try:
        await eventually(
            functools.partial(_announced, hook, ticket_id, rule, "SlaBreached"),
            within=30,
            message="the breach that passed while down",
        )
        await asyncio.sleep(0.3)  # a restarted watcher that repeated would do it now
    finally:
        await restarted.stop()


Verdicts = dict[tuple[str, str], list[str]]


def verdicts_on_the_topic(on_topic: list[tuple[Any, CloudEvent]]) -> Verdicts:
    """First-cycle verdicts per (ticket, rule), each event once and valid against its schema."""
    verdicts: Verdicts = defaultdict(list)
    seen: set[str] = set()
    for _, announced in on_topic:
        assert announced.source == "/aftercare/sla-watcher"
        assert announced.type.startswith("com.aftercare.sla.")
        if announced.id in seen:  # at-least-once relay; consumers de-duplicate by ce_id
            continue
        seen.add(announced.id)
        assert announced.dataschema is not None
        schema = json.loads((SCHEMAS / announced.dataschema.rsplit("/", 1)[1]).read_text())
        Draft202012Validator(schema, format_checker=FormatChecker()).validate(announced.data)
        if announced.data["cycle"] == 1:  # a met progress update starts the next cycle
            verdicts[(announced.subject, announced.data["rule"])].append(
                announced.type.split(".")[3]
            )
    return verdicts


def every_target_was_met_or_missed_once(verdicts: Verdicts) -> None:
    for ticket_id, (scenario, _) in MOVED.items():
        assert verdicts[(ticket_id, scenario.rule)] == ["SlaWarning", "SlaBreached"]
    for scenario in SCENARIOS:
        met = verdicts[(f"met-{scenario.rule}", scenario.rule)]
        assert met == ["SlaMet"], (scenario.rule, met)
        missed = verdicts[(f"miss-{scenario.rule}", scenario.rule)]
        assert missed == ["SlaWarning", "SlaBreached"], (scenario.rule, missed)


def every_breach_paged_on_call_signed_once(hook: WebhookReceiver, smtp: SmtpSink) -> None:
    """On both channels, with what on-call needs to act, never twice to one group."""
    for scenario in SCENARIOS:
        alerts = [
            r
            for r in hook.received
            if r.json()["rule"] == scenario.rule
            and r.json()["ticket_id"] == f"miss-{scenario.rule}"
            and r.json()["verdict"] == "SlaBreached"
        ]
        assert alerts, scenario.rule
        alert = alerts[0]  # one per paging group of the rule (on-call, complaints desk)
        body = alert.json()
        assert alert.headers["x-aftercare-signature"] == sign_webhook(
            SECRET, alert.headers["x-aftercare-timestamp"], alert.body
        )
        assert body["customer_ref"] == f"CUST-{scenario.rule}"
        assert body["link"] == f"http://tickets.test/console/tickets/miss-{scenario.rule}"
        assert any(
            scenario.rule in subject
            and f"miss-{scenario.rule}" in subject
            and "BREACHED" in subject
            for subject in smtp.subjects()
        ), scenario.rule
    paged = [(r.path, r.json()["event_id"]) for r in hook.received]
    assert len(paged) == len(set(paged)), "a verdict was paged twice to one group"


async def test_every_clock_met_and_missed_end_to_end(
    engine: AsyncEngine, broker: EmbeddedBroker, topic: str
) -> None:
    sla_topic = f"ticket.sla.test-{uuid.uuid4().hex[:8]}"
    await ensure_topics(broker.bootstrap_servers, [TopicSpec(sla_topic, 4)])
    clock = FixedClock(START)
    published = every_scenario_published()
    await publish(broker.bootstrap_servers, topic, published)

    async with webhook_receiver() as hook, smtp_sink() as smtp:
        watcher = service(engine, broker, (topic, sla_topic), clock, hook, smtp)
        await watcher.start()
        try:
            await eventually(
                lambda: watcher.consumer.stats.processed == len(published),
                within=30,
                message="every ticket event applied",
            )
            steps = await the_instants_to_visit(engine)
            slept_through = steps.pop()  # passes while the watcher is stopped
            await each_verdict_is_paged_as_time_passes(clock, hook, steps)
        finally:
            await watcher.stop()

        clock.set(slept_through[0] + timedelta(hours=1))
        restarted = service(engine, broker, (topic, sla_topic), clock, hook, smtp)
        await a_restarted_watcher_pages_the_breach_it_slept_through(restarted, hook, slept_through)
        total = watcher.relay.stats.published + restarted.relay.stats.published
        on_topic = await read_topic(broker.bootstrap_servers, sla_topic, expect=total)

    every_target_was_met_or_missed_once(verdicts_on_the_topic(on_topic))
    every_breach_paged_on_call_signed_once(hook, smtp)


def _announced(hook: WebhookReceiver, ticket_id: str, rule: str, verdict: str) -> bool:
    return any(
        r.json()["rule"] == rule
        and r.json()["ticket_id"] == ticket_id
        and r.json()["verdict"] == verdict
        for r in hook.received
    )
