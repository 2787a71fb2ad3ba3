"""Two writers of one case at once — a fact batch from the ticket topic, a verdict from
the SLA topic (another partition, maybe another group member), a survey answer from the
API — and the case keeps all three, on SQLite and PostgreSQL. And the migration that
moved each case's facts into its snapshot row keeps what was recorded before it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, timedelta
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from aftercare.clock import FixedClock
from aftercare.cloudevents import CloudEvent
from aftercare.db import create_engine, transaction
from aftercare.migrations import downgrade, upgrade
from aftercare.sqltypes import JsonDocument, UtcDateTime
from aftercare_reporting.adapters.store import cases_raised
from aftercare_reporting.adapters.surveys import record_answer
from aftercare_reporting.service_layer.projection import Reporting
from aftercare_system import SERVICE_PACKAGES
from tests.conftest import PG_ADMIN_DSN
from tests.integration.test_reporting_store import DAY, T0, deliver, folded, walk

SCORES = dict.fromkeys(("attitude", "speed", "solving", "overall"), 4)


def verdict(ticket: str, rule: str = "T-PHONE") -> CloudEvent:
    return CloudEvent(
        id=str(uuid.uuid4()),
        source="/aftercare/sla-watcher",
        type="com.aftercare.sla.SlaMet.v1",
        time=T0 + timedelta(minutes=2),
        subject=ticket,
        sequence=1,
        data={"rule": rule, "cycle": 1, "title": rule},
    )


async def test_a_fact_batch_a_verdict_and_an_answer_at_once_all_count(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    clock.set(T0 + timedelta(hours=3))
    reporting = Reporting(engine, clock, UTC)
    tickets = [f"race-{n}" for n in range(40)]
    writes = []
    for ticket in tickets:
        writes += [
            deliver(engine, reporting, walk(ticket)),
            deliver(engine, reporting, [verdict(ticket)]),
            record_answer(engine, f"nonce-{ticket}", ticket, SCORES, clock.now()),
        ]
    await asyncio.gather(*writes)
    cases = await cases_raised(engine, *DAY, clock.now())
    assert [c.ticket_id for c in cases] == sorted(tickets)
    for case in cases:
        assert (case.resolved, case.satisfaction) == (True, 4), case.ticket_id
        assert [v.rule for v in case.verdicts] == ["T-PHONE"], case.ticket_id
        assert case.survey_overall == 4, case.ticket_id


@pytest.mark.postgres
async def test_a_writer_of_a_case_being_written_waits_and_adds_to_it(
    postgres_url: str, clock: FixedClock
) -> None:
    """The second writer of a brand-new case finds its row taken, waits for the first
    to commit, and then folds its verdict onto what the first wrote."""
    engine = create_engine(postgres_url)
    try:
        clock.set(T0 + timedelta(hours=3))
        reporting = Reporting(engine, clock, UTC)
        ticket = f"held-{uuid.uuid4().hex[:8]}"
        async with transaction(engine) as first:
            await reporting.on_events(first, walk(ticket))
            second = asyncio.create_task(deliver(engine, reporting, [verdict(ticket)]))
            await _waiting_on_a_lock(engine)
            assert not second.done()
        await second
        [case] = [c for c in await cases_raised(engine, *DAY, clock.now()) if c.ticket_id == ticket]
        assert case.resolved
        assert [v.rule for v in case.verdicts] == ["T-PHONE"]
    finally:
        await engine.dispose()


async def _waiting_on_a_lock(engine: AsyncEngine) -> None:
    """Until some session of this database waits for a lock (the second writer)."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    for _ in range(2000):
        async with engine.connect() as connection:
            if await connection.scalar(query):
                return
        await asyncio.sleep(0.005)
    raise AssertionError("the second writer never waited for the first")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def bare_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database of its own, with no schema yet."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'bare.db'}"
        return
    request.getfixturevalue("postgres_url")  # fails or skips as the suite's does
    name = f"aftercare_bare_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + (
            f"/{name}"
        )
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


BEFORE = "0408_report_snapshots"


async def test_facts_recorded_before_the_move_still_fold_and_go_back(
    bare_url: str, clock: FixedClock
) -> None:
    engine = create_engine(bare_url)
    try:
        await upgrade(engine, SERVICE_PACKAGES, to=BEFORE)
        events = walk("before")
        async with transaction(engine) as connection:
            await _old_layout_rows(connection, events)
        await upgrade(engine, SERVICE_PACKAGES)
        clock.set(T0 + timedelta(hours=3))
        [case] = await cases_raised(engine, *DAY, clock.now())
        assert case == folded(events)
        [then] = await cases_raised(engine, *DAY, T0 + timedelta(minutes=30))
        assert then == folded(events[:2])  # recorded_at kept: "as of" still holds
        reporting = Reporting(engine, clock, UTC)
        await deliver(engine, reporting, [verdict("before")])  # touched: folded again
        [touched] = await cases_raised(engine, *DAY, clock.now())
        assert (touched.resolved, [v.rule for v in touched.verdicts]) == (True, ["T-PHONE"])
        await downgrade(engine, SERVICE_PACKAGES, BEFORE)
        async with engine.connect() as connection:
            kept = (await connection.execute(text("SELECT count(*) FROM report_facts"))).scalar()
        assert kept == len(events)
    finally:
        await engine.dispose()


async def _old_layout_rows(connection: AsyncConnection, events: list[CloudEvent]) -> None:
    """The facts as the projection wrote them before the move: a row each, recorded
    at two moments, and no snapshot."""
    statement = text(
        "INSERT INTO report_facts (ticket_id, sequence, type, at, recorded_at, data) "
        "VALUES (:ticket, :sequence, :type, :at, :recorded, :data)"
    ).bindparams(
        bindparam("at", type_=UtcDateTime),
        bindparam("recorded", type_=UtcDateTime),
        bindparam("data", type_=JsonDocument),
    )
    for event in events:
        early = (event.sequence or 0) <= 2
        recorded = T0 + (timedelta(minutes=5) if early else timedelta(hours=2))
        row = {
            "ticket": event.subject,
            "sequence": event.sequence,
            "type": event.type.split(".")[3],
            "at": event.time,
            "recorded": recorded,
            "data": event.data,
        }
        await connection.execute(statement, row)
    raised = text(
        "INSERT INTO report_cases (ticket_id, requested_at, recorded_at) VALUES (:ticket, :at, :at)"
    ).bindparams(bindparam("at", type_=UtcDateTime))
    await connection.execute(raised, {"ticket": events[0].subject, "at": T0})
