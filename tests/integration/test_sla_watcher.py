"""The SLA watcher on every store (in memory, SQLite, PostgreSQL): verdicts from events and
from time, once each; its HTTP API on the databases."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.auth import KeyRing, parse_api_keys
from aftercare.china_calendar import china_calendar
from aftercare.clock import FixedClock
from aftercare.cloudevents import CloudEvent
from aftercare.db import create_engine
from aftercare.eventstore import RecordedEvent
from aftercare_sla.adapters.memory_store import MemoryWatcherStore
from aftercare_sla.adapters.policy_file import parse_policy
from aftercare_sla.adapters.timer_store import SqlWatcherStore
from aftercare_sla.domain.policy import Policy
from aftercare_sla.entrypoints.app import create_sla_app
from aftercare_sla.service_layer.watcher import SlaWatcher, sla_stream
from tests.conftest import empty_tables
from tests.support.sla_scenarios import T0, Scenario, ack, event, later

Store = MemoryWatcherStore | SqlWatcherStore

ROOT = Path(__file__).resolve().parents[2]
READER_KEYS = KeyRing(parse_api_keys("k=reader"))
POLICY_TEXT = (ROOT / "deploy" / "sla-policy.yaml").read_text()
POLICY = parse_policy(POLICY_TEXT, "default", {})
GRACE = timedelta(seconds=0.5)


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "memory":
        return "memory"
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
async def store(backend: str, clock: FixedClock) -> AsyncIterator[Store]:
    """The same test on each store of the watcher's unit of work."""
    if backend == "memory":
        yield MemoryWatcherStore(clock)
        return
    engine = create_engine(backend)
    await empty_tables(engine)
    try:
        yield SqlWatcherStore(engine)
    finally:
        await engine.dispose()


def watcher_for(store: Store, clock: FixedClock, policy: Policy = POLICY) -> SlaWatcher:
    return SlaWatcher(store, policy, china_calendar(), clock, grace=GRACE)


def cloudevents(ticket_id: str, scenario: Scenario, *, met: bool) -> list[CloudEvent]:
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


async def deliver(watcher: SlaWatcher, events: Sequence[CloudEvent]) -> None:
    for cloud_event in events:
        async with watcher.store.transaction() as unit:
            await watcher.on_ticket_event(unit, cloud_event, partition=0)


async def verdicts(store: Store, ticket_id: str, rule: str | None = None) -> list[RecordedEvent]:
    recorded = await store.events.read_stream(sla_stream(ticket_id))
    return [e for e in recorded if rule is None or e.data["rule"] == rule]


def email_ticket(*steps: tuple) -> Scenario:  # type: ignore[type-arg]
    return Scenario("T-EMAIL", channel="email", steps=list(steps), stop=ack(later(9)))


async def test_a_live_miss_warns_then_breaches_once(store: Store, clock: FixedClock) -> None:
    clock.set(T0)
    watcher = watcher_for(store, clock)
    await deliver(watcher, cloudevents("t-miss", email_ticket(), met=False))
    assert await watcher.fire_due() == 0
    assert await watcher.seconds_until_due() == pytest.approx(8 * 60)

    clock.set(later(8) + timedelta(seconds=1))
    assert await watcher.fire_due() == 1
    [warning] = await verdicts(store, "t-miss", "T-EMAIL")
    assert warning.type == "SlaWarning"
    assert warning.data["remaining_seconds"] == 119
    assert warning.data["policy_version"] == POLICY.version

    clock.set(later(10) + GRACE + timedelta(seconds=1))
    assert await watcher.fire_due() == 1
    assert await watcher.fire_due() == 0
    [_, breach] = await verdicts(store, "t-miss", "T-EMAIL")
    assert breach.type == "SlaBreached"
    assert when(breach.data["breached_at"]) == later(10)
    assert when(breach.data["deadline"]) == later(10)
    assert when(breach.data["detected_at"]) == clock.now()
    assert breach.data["customer_ref"] == "CUST-T-EMAIL"
    assert breach.data["budget"] == "10m"

    # A restarted watcher, and the same events delivered again, repeat nothing.
    again = watcher_for(store, clock)
    await deliver(again, cloudevents("t-miss", email_ticket(), met=False))
    clock.advance(timedelta(hours=1))
    await again.fire_due()
    assert [v.type for v in await verdicts(store, "t-miss", "T-EMAIL")] == [
        "SlaWarning",
        "SlaBreached",
    ]


async def test_a_target_met_in_time_is_announced_and_never_breached(
    store: Store, clock: FixedClock
) -> None:
    clock.set(T0)
    watcher = watcher_for(store, clock)
    await deliver(watcher, cloudevents("t-met", email_ticket(), met=True))
    [met] = await verdicts(store, "t-met", "T-EMAIL")
    assert (met.type, when(met.data["met_at"]), met.data["elapsed_seconds"]) == (
        "SlaMet",
        later(9),
        540,
    )
    clock.set(later(30))
    await watcher.fire_due()
    assert [v.type for v in await verdicts(store, "t-met", "T-EMAIL")] == ["SlaMet"]


async def test_a_watcher_that_was_down_judges_by_event_times(
    store: Store, clock: FixedClock
) -> None:
    """Both events arrive an hour late: the reply at 11 min missed the 10-min target."""
    clock.set(later(60))
    watcher = watcher_for(store, clock)
    late = Scenario("T-EMAIL", late_stop=ack(later(11)))
    events = cloudevents("t-late", late, met=False)
    late_ack = cloudevents("t-late", Scenario("T-EMAIL", steps=[ack(later(11))]), met=False)[1]
    await deliver(watcher, [*events, late_ack])
    [breach] = await verdicts(store, "t-late", "T-EMAIL")
    assert breach.type == "SlaBreached"
    assert when(breach.data["breached_at"]) == later(10)
    assert breach.data["late_by_seconds"] == 60


async def test_a_deadline_passed_while_down_is_reported_at_start(
    store: Store, clock: FixedClock
) -> None:
    clock.set(later(60))
    watcher = watcher_for(store, clock)
    await deliver(watcher, cloudevents("t-down", email_ticket(), met=False))
    await watcher.fire_due()
    assert [v.type for v in await verdicts(store, "t-down", "T-EMAIL")] == ["SlaBreached"]


async def test_waiting_on_the_customer_moves_the_deadline(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    clock.set(T0)
    watcher = watcher_for(SqlWatcherStore(engine), clock)
    scenario = Scenario(
        "T-RESOLVE-GENERAL",
        steps=[
            ack(later(5)),
            event(later(60), "Diagnosed", complexity="general"),
            event(later(90), "CustomerInfoRequested", paused_from="diagnosed"),
            event(later(150), "CustomerInfoProvided", resumed_to="diagnosed"),
        ],
    )
    await deliver(watcher, cloudevents("t-wait", scenario, met=False))
    transport = httpx.ASGITransport(
        app=create_sla_app(engine, clock, KeyRing(parse_api_keys("k=reader")))
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://sla") as api:
        response = await api.get("/sla/tickets/t-wait", headers={"Authorization": "Bearer k"})
        assert response.status_code == 200
        resolve = next(t for t in response.json()["targets"] if t["rule"] == "T-RESOLVE-GENERAL")
        assert when(resolve["deadline"]) == later(hours=5)
        assert resolve["status"] == "running"
        assert resolve["remaining_seconds"] == 5 * 3600

        missing = await api.get("/sla/tickets/nope", headers={"Authorization": "Bearer k"})
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        assert (await api.get("/sla/tickets/t-wait")).status_code == 401


async def test_a_policy_change_recomputes_open_deadlines_and_keeps_verdicts(
    store: Store, clock: FixedClock
) -> None:
    clock.set(later(60))
    old = watcher_for(store, clock)
    await deliver(old, cloudevents("t-breached", email_ticket(), met=False))
    await old.fire_due()  # breached under the old policy at T0+10m
    clock.set(T0)
    await deliver(old, cloudevents("t-open", Scenario("T-EMAIL", channel="email"), met=False))

    longer = parse_policy(POLICY_TEXT.replace("budget: 10m", "budget: 20m"), "new", {})
    clock.set(later(12))
    new = watcher_for(store, clock, longer)
    recomputed = await new.recompute_open_tickets()
    assert recomputed.tickets == 2
    assert recomputed.deadlines_moved >= 1
    async with store.transaction() as unit:
        open_timer = (await unit.timers.timers_of("t-open"))[("T-EMAIL", 1)]
        breached = (await unit.timers.timers_of("t-breached"))[("T-EMAIL", 1)]
    assert open_timer.deadline == later(20)
    assert open_timer.policy_version == longer.version
    assert breached.breached  # the verdict stands
    [verdict] = await verdicts(store, "t-breached", "T-EMAIL")
    assert verdict.data["policy_version"] == POLICY.version
    assert await new.fire_due() == 0  # t-open: 12 of 20 minutes, no warning yet at 16
    assert (await new.recompute_open_tickets()).tickets == 0


async def test_breaches_are_listed_since_a_time(engine: AsyncEngine, clock: FixedClock) -> None:
    clock.set(later(60))
    watcher = watcher_for(SqlWatcherStore(engine), clock)
    await deliver(watcher, cloudevents("t-b1", email_ticket(), met=False))
    await watcher.fire_due()
    transport = httpx.ASGITransport(
        app=create_sla_app(engine, clock, KeyRing(parse_api_keys("k=reader")))
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://sla") as api:
        headers = {"Authorization": "Bearer k"}
        listed = (await api.get("/sla/breaches", headers=headers)).json()
        rules = {(b["ticket_id"], b["rule"]) for b in listed}
        assert ("t-b1", "T-EMAIL") in rules
        later_only = await api.get(
            "/sla/breaches", params={"since": later(30).isoformat()}, headers=headers
        )
        assert ("t-b1", "T-EMAIL") not in {(b["ticket_id"], b["rule"]) for b in later_only.json()}
        bad = await api.get("/sla/breaches", params={"since": "yesterday"}, headers=headers)
        assert bad.status_code == 422


async def test_readiness_says_when_a_years_holiday_schedule_is_missing(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    from aftercare.china_calendar import CalendarStatus

    missing = create_sla_app(engine, clock, READER_KEYS, calendar=CalendarStatus((2027,)))
    known = create_sla_app(engine, clock, READER_KEYS, calendar=CalendarStatus(()))
    for app, status in ((missing, "degraded"), (known, "ok")):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sla") as api:
            answer = await api.get("/readyz")
        assert answer.status_code == 200
        assert answer.json()["status"] == status
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=missing), base_url="http://sla"
    ) as api:
        assert "2027" in (await api.get("/readyz")).json()["calendar"]
