"""The alert keeper on SQLite and PostgreSQL (issue: on-call paging): the real watcher's
verdicts trigger one alert per clock cycle whose urgency rises with the breach, the chain
is climbed step by step on the due index, an acknowledgement stops it, the clock stopping
late resolves it by itself, and two keepers deciding at once take every step once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.auth import KeyRing, parse_api_keys
from aftercare.clock import FixedClock
from aftercare.db import create_engine
from aftercare_sla.adapters.alert_store import SqlAlertStore, decoded
from aftercare_sla.adapters.oncall_pages import AckLinks
from aftercare_sla.adapters.override_store import SqlOverrideStore
from aftercare_sla.adapters.timer_store import SqlWatcherStore
from aftercare_sla.domain.alert_events import AlertEscalated
from aftercare_sla.domain.alerting import alert_id
from aftercare_sla.domain.escalation import OnCallPolicy
from aftercare_sla.domain.oncall import Override
from aftercare_sla.entrypoints.ack_page import AckPage
from aftercare_sla.entrypoints.app import create_sla_app
from aftercare_sla.entrypoints.service import paging_groups
from aftercare_sla.service_layer.alert_keeper import AlertKeeper
from tests.integration.test_sla_watcher import (
    GRACE,
    POLICY,
    cloudevents,
    deliver,
    email_ticket,
    verdicts,
    watcher_for,
)
from tests.support.sla_scenarios import T0, Scenario, ack, later

ONCALL = OnCallPolicy.model_validate(
    {
        "people": {"li": {"name": "Li Lei"}, "lead": {"name": "Han Meimei"}},
        "schedules": {
            "engineers": {
                "layers": [{"every": "daily", "start": "2026-01-01", "participants": ["li"]}]
            }
        },
        "escalation": {
            "oncall": {
                "levels": [
                    {"notify": [{"schedule": "engineers"}], "wait": "10m"},
                    {"notify": [{"person": "lead"}, {"channels": True}], "wait": "10m"},
                ],
                "acknowledgement_timeout": "30m",
            }
        },
    }
)
KEY = alert_id("t-page", "T-EMAIL", 1)
TTA = "aftercare_oncall_time_to_acknowledge_seconds"


def keeper_on(engine: AsyncEngine, clock: FixedClock) -> AlertKeeper:
    return AlertKeeper(SqlAlertStore(engine), ONCALL, paging_groups(POLICY), clock)


async def steps(engine: AsyncEngine) -> list[tuple[int, list[str], str]]:
    history = [decoded(r) for r in await SqlAlertStore(engine).history(KEY)]
    return [
        (e.level, e.people, e.occurred_at.isoformat())
        for e in history
        if isinstance(e, AlertEscalated)
    ]


async def test_a_missed_clock_is_one_alert_climbing_until_acknowledged_then_resolved(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    clock.set(T0)
    store = SqlWatcherStore(engine)
    watcher, keeper = watcher_for(store, clock), keeper_on(engine, clock)
    await deliver(watcher, cloudevents("t-page", email_ticket(), met=False))
    clock.set(later(8) + timedelta(seconds=1))
    await watcher.fire_due()
    [warning] = await verdicts(store, "t-page", "T-EMAIL")
    assert [e.event_type for e in await keeper.on_verdict(warning)] == ["AlertTriggered"]
    assert await keeper.on_verdict(warning) == []  # redelivered: the same alert
    await keeper.fire_due()
    assert [s[:2] for s in await steps(engine)] == [(0, ["li"])]

    clock.set(later(10) + GRACE + timedelta(seconds=1))
    await watcher.fire_due()
    [_, breach] = await verdicts(store, "t-page", "T-EMAIL")
    assert [e.event_type for e in await keeper.on_verdict(breach)] == ["AlertUrgencyRaised"]
    await keeper.fire_due()  # the breach pages level 1 again
    clock.set(clock.now() + timedelta(minutes=10))
    assert await keeper.seconds_until_due() == 0
    await keeper.fire_due()
    assert [s[:2] for s in await steps(engine)] == [(0, ["li"]), (0, ["li"]), (1, ["lead"])]

    by_lead = {"group": "oncall", "level": "2"}  # the lead, paged at level 2, answered
    before = REGISTRY.get_sample_value(f"{TTA}_count", by_lead) or 0
    acknowledged = await keeper.acknowledge(KEY, "lead", "link")
    assert acknowledged.state == "acknowledged"
    assert REGISTRY.get_sample_value(f"{TTA}_count", by_lead) == before + 1
    waited = REGISTRY.get_sample_value(f"{TTA}_bucket", {**by_lead, "le": "1800.0"})
    assert waited is not None  # 20 minutes and a bit: within the half-hour bucket
    clock.set(clock.now() + timedelta(minutes=29))
    assert await keeper.fire_due() == 0  # the reminder is due after 30 minutes

    # The engineer answers the customer at last: the clock stops, late; the page goes.
    answered = Scenario("T-EMAIL", channel="email", stop=ack(clock.now()))
    await deliver(watcher, cloudevents("t-page", answered, met=True)[-1:])
    assert await keeper.fire_due() == 1
    rows = await SqlAlertStore(engine).listed("resolved", "oncall", 10)
    assert [(r.alert_id, r.state, r.next_due) for r in rows] == [(KEY, "resolved", None)]
    history = [decoded(r) for r in await SqlAlertStore(engine).history(KEY)]
    assert history[-1].resolution == "stopped"  # type: ignore[attr-defined]


async def test_two_keepers_deciding_at_once_take_every_step_once(
    engine: AsyncEngine, database_url: str, clock: FixedClock
) -> None:
    clock.set(T0)
    store = SqlWatcherStore(engine)
    watcher = watcher_for(store, clock)
    await deliver(watcher, cloudevents("t-page", email_ticket(), met=False))
    clock.set(later(8) + timedelta(seconds=1))
    await watcher.fire_due()
    [warning] = await verdicts(store, "t-page", "T-EMAIL")
    other = create_engine(database_url)
    try:
        keepers = [keeper_on(engine, clock), keeper_on(other, clock)]
        await asyncio.gather(*(k.on_verdict(warning) for k in keepers))
        for minutes in (0, 10, 20, 30):
            clock.set(later(8) + timedelta(seconds=1, minutes=minutes))
            await asyncio.gather(*(k.fire_due() for k in keepers))
    finally:
        await other.dispose()
    assert [s[:2] for s in await steps(engine)] == [(0, ["li"]), (1, ["lead"])]
    history = await SqlAlertStore(engine).history(KEY)
    assert [r.type for r in history].count("AlertTriggered") == 1


async def test_an_override_entered_over_the_api_is_paged_instead_of_the_rotation(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    clock.set(T0)
    store = SqlWatcherStore(engine)
    watcher = watcher_for(store, clock)
    await deliver(watcher, cloudevents("t-page", email_ticket(), met=False))
    clock.set(later(8) + timedelta(seconds=1))
    await watcher.fire_due()
    overrides = SqlOverrideStore(engine)
    cover = Override(person="lead", start=T0, end=T0 + timedelta(days=1), reason="li is ill")
    await overrides.add("engineers", cover, "desk", clock.now())
    keeper = AlertKeeper(
        SqlAlertStore(engine), ONCALL, paging_groups(POLICY), clock, overrides=overrides
    )
    [warning] = await verdicts(store, "t-page", "T-EMAIL")
    await keeper.on_verdict(warning)
    await keeper.fire_due()
    assert [s[:2] for s in await steps(engine)] == [(0, ["lead"])]


async def test_the_api_acknowledges_in_the_name_of_the_person_acting(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    """A console acknowledges with its own key and names its signed-in user (X-Actor);
    a role that does not act on alerts is refused whatever it names."""
    clock.set(T0)
    store = SqlWatcherStore(engine)
    watcher, keeper = watcher_for(store, clock), keeper_on(engine, clock)
    await deliver(watcher, cloudevents("t-page", email_ticket(), met=False))
    clock.set(later(8) + timedelta(seconds=1))
    await watcher.fire_due()
    [warning] = await verdicts(store, "t-page", "T-EMAIL")
    await keeper.on_verdict(warning)
    links = AckLinks("s" * 16, "http://sla.test")
    keys = KeyRing(parse_api_keys("console:c-key=supervisor,viewer:r-key=reader"))
    app = create_sla_app(
        engine, clock, keys, alerts=(keeper, links, AckPage(ONCALL, "http://t", "Asia/Shanghai"))
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sla.test"
    ) as api:
        path = f"/alerts/{KEY}/acknowledge"
        reader = await api.post(path, headers={"Authorization": "Bearer r-key", "X-Actor": "eng"})
        assert reader.status_code == 403
        done = await api.post(path, headers={"Authorization": "Bearer c-key", "X-Actor": "eng"})
        assert done.status_code == 200, done.text
        assert done.json()["state"] == "acknowledged"
        assert done.json()["acknowledged_by"] == "eng"
        listed = await api.get(
            "/alerts", params={"ticket": "t-page"}, headers={"Authorization": "Bearer r-key"}
        )
        assert [a["alert_id"] for a in listed.json()] == [KEY]
        other = await api.get(
            "/alerts", params={"ticket": "t-other"}, headers={"Authorization": "Bearer r-key"}
        )
        assert other.json() == []
