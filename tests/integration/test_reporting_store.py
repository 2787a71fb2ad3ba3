"""The reporting projection's snapshots on SQLite and PostgreSQL: whatever order and
however often facts arrive, a case reads as the fold of the facts recorded by the cut-off
(redeliveries, gaps filled later, verdicts before their case, survey answers)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.clock import FixedClock
from aftercare.cloudevents import CloudEvent
from aftercare.db import transaction
from aftercare_reporting.adapters.store import cases_raised
from aftercare_reporting.adapters.surveys import record_answer
from aftercare_reporting.domain.cases import Fact, fold
from aftercare_reporting.service_layer.projection import Reporting

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = (T0 - timedelta(hours=9), T0 + timedelta(hours=15))


def ticket_event(ticket: str, sequence: int, name: str, minutes: int, **data: Any) -> CloudEvent:
    at = T0 + timedelta(minutes=minutes)
    return CloudEvent(
        id=str(uuid.uuid4()),
        source="/aftercare/ticket",
        type=f"com.aftercare.ticket.{name}.v1",
        time=at,
        subject=ticket,
        sequence=sequence,
        data={"ticket_id": ticket, "occurred_at": at.isoformat(), **data},
    )


def walk(ticket: str) -> list[CloudEvent]:
    return [
        ticket_event(
            ticket,
            1,
            "RequestRaised",
            0,
            kind="support",
            channel="phone",
            requested_at=T0.isoformat(),
        ),
        ticket_event(ticket, 2, "Acknowledged", 2),
        ticket_event(ticket, 3, "ProgressReported", 40),
        ticket_event(ticket, 4, "Resolved", 90),
        ticket_event(ticket, 5, "Revisited", 100, satisfaction=4),
    ]


def folded(events: list[CloudEvent]) -> Any:
    facts = [Fact(e.sequence or 0, e.type.split(".")[3], e.time, e.data) for e in events]
    return fold(events[0].subject, facts)


async def deliver(engine: AsyncEngine, reporting: Reporting, *batches: list[CloudEvent]) -> None:
    for batch in batches:
        async with transaction(engine) as connection:
            await reporting.on_events(connection, batch)


async def test_in_order_redelivered_or_with_a_gap_the_case_is_its_facts_folded(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    reporting = Reporting(engine, clock, UTC)
    steady, gapped = walk("steady"), walk("gapped")
    await deliver(engine, reporting, steady[:2], steady[2:], steady[1:3], steady)  # repeats
    await deliver(engine, reporting, gapped[:2], [gapped[3]])  # 3 is late
    clock.set(T0 + timedelta(hours=3))
    [gap_case, steady_case] = await cases_raised(engine, *DAY, clock.now())
    assert steady_case == folded(steady)
    assert steady_case.progress_at == (T0 + timedelta(minutes=40),)  # once, not thrice
    assert gap_case == folded([gapped[0], gapped[1], gapped[3]])  # what is known so far
    await deliver(engine, reporting, [gapped[2]], [gapped[4]])  # the gap filled, then more
    [gap_case, _] = await cases_raised(engine, *DAY, clock.now())
    assert gap_case == folded(gapped)


async def test_as_of_an_earlier_moment_the_case_is_as_it_was_then(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    reporting = Reporting(engine, clock, UTC)
    events = walk("later")
    clock.set(T0 + timedelta(minutes=5))
    await deliver(engine, reporting, events[:2])
    clock.set(T0 + timedelta(hours=2))
    await deliver(engine, reporting, events[2:])
    verdict = CloudEvent(
        id=str(uuid.uuid4()),
        source="/aftercare/sla-watcher",
        type="com.aftercare.sla.SlaMet.v1",
        time=T0 + timedelta(minutes=2),
        subject="later",
        sequence=1,
        data={"rule": "T-PHONE", "cycle": 1, "title": "Phone answered"},
    )
    await deliver(engine, reporting, [verdict], [verdict])
    await record_answer(
        engine,
        "n-1",
        "later",
        dict.fromkeys(("attitude", "speed", "solving", "overall"), 5),
        clock.now(),
    )
    [then] = await cases_raised(engine, *DAY, T0 + timedelta(minutes=10))
    [now] = await cases_raised(engine, *DAY, clock.now())
    assert (then.resolved, then.verdicts, then.survey_overall) == (False, (), None)
    assert then == folded(events[:2])
    assert (now.resolved, len(now.verdicts), now.survey_overall) == (True, 1, 5)


async def test_a_verdict_before_its_case_is_kept_for_it(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    reporting = Reporting(engine, clock, UTC)
    verdict = CloudEvent(
        id=str(uuid.uuid4()),
        source="/aftercare/sla-watcher",
        type="com.aftercare.sla.SlaBreached.v1",
        time=T0,
        subject="early",
        sequence=1,
        data={"rule": "T-PHONE", "cycle": 1, "title": "Phone answered"},
    )
    await deliver(engine, reporting, [verdict], walk("early"))
    clock.set(T0 + timedelta(hours=3))
    [case] = await cases_raised(engine, *DAY, clock.now())
    assert [(v.rule, v.met) for v in case.verdicts] == [("T-PHONE", False)]
    assert case.resolved


async def test_an_answer_asked_again_changes_only_when_its_cases_do(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    reporting = Reporting(engine, clock, UTC)
    events = walk("cached")
    clock.set(T0 + timedelta(minutes=5))
    await deliver(engine, reporting, events[:2])
    first = await reporting.kpis(*DAY)  # at the instant of a write: not kept
    clock.set(T0 + timedelta(minutes=6))
    first = await reporting.kpis(*DAY)
    assert await reporting.kpis(*DAY) is first  # nothing recorded since: the same answer
    clock.set(T0 + timedelta(hours=2))
    await deliver(engine, reporting, events[2:])  # resolved and revisited since
    clock.set(T0 + timedelta(hours=3))
    later = await reporting.kpis(*DAY)
    resolved = {r.kpi: r for r in later[0].results}["M-RESOLVED"]
    assert (later is not first, resolved.denominator) == (True, 1)
    before = await reporting.kpis(*DAY, as_of=T0 + timedelta(minutes=10))
    assert {r.kpi: r for r in before[0].results}["M-RESOLVED"].denominator == 0


def test_a_snapshot_document_keeps_every_field() -> None:
    from dataclasses import fields

    from aftercare_reporting.adapters.snapshots import from_document, to_document
    from aftercare_reporting.domain.cases import Case, Verdict

    at = T0 + timedelta(minutes=1)
    values: dict[str, Any] = {}
    for number, field in enumerate(fields(Case)):
        kind = str(field.type)
        if field.name == "ticket_id":
            values[field.name] = "t"
        elif kind.startswith("datetime"):
            values[field.name] = at + timedelta(minutes=number)
        elif field.name == "progress_at":
            values[field.name] = (at, at + timedelta(hours=1))
        elif field.name == "waits":
            values[field.name] = ((at, at + timedelta(minutes=5)), (at + timedelta(hours=2), None))
        elif field.name == "verdicts":
            values[field.name] = (Verdict("T-PHONE", "Phone", 1, False),)
        elif kind.startswith("bool"):
            values[field.name] = True
        elif kind.startswith("int"):
            values[field.name] = number
        else:
            values[field.name] = f"value {number}"
    case = Case(**values)
    stored = orjson.loads(orjson.dumps(to_document(case)))  # as the engine's encoder writes it
    assert from_document(stored) == case
    assert from_document({"v": 0, "f": []}) is None  # an older layout: folded again


async def test_thousands_of_cases_changed_since_the_cut_off_are_folded_as_they_were(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    """More cases than one IN list holds (SNAPSHOT_BATCH), every one changed after the
    cut-off: each is folded again from what was recorded by then."""
    from aftercare_reporting.adapters.refolding import SNAPSHOT_BATCH

    reporting = Reporting(engine, clock, UTC)
    tickets = [walk(f"bulk-{n}") for n in range(SNAPSHOT_BATCH + 200)]
    clock.set(T0 + timedelta(minutes=5))
    await deliver(engine, reporting, [e for t in tickets for e in t[:2]])
    clock.set(T0 + timedelta(hours=2))
    await deliver(engine, reporting, [e for t in tickets for e in t[2:]])
    before = await cases_raised(engine, *DAY, T0 + timedelta(minutes=10))
    after = await cases_raised(engine, *DAY, clock.now())
    assert len(before) == len(after) == len(tickets)
    assert not any(c.resolved for c in before)
    assert all(c.resolved and c.satisfaction == 4 for c in after)
