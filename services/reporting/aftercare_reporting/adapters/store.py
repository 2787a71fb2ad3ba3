"""The projection's storage: facts in (in the consumer's transaction), a period's cases
out, folded from the facts recorded by the cut-off."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from aftercare.db import insert_if_absent, transaction, upsert
from aftercare.eventstore import NewEvent, SqlStreamSession
from aftercare_reporting.adapters.surveys import overall_scores
from aftercare_reporting.adapters.tables import (
    kpi_alarms,
    report_cases,
    report_facts,
    report_verdicts,
)
from aftercare_reporting.domain.cases import Case, Fact, Verdict, fold
from aftercare_reporting.domain.events import QualityAlertRaised


async def store_fact(
    connection: AsyncConnection, ticket_id: str, fact: Fact, recorded_at: datetime
) -> None:
    row = {
        "ticket_id": ticket_id,
        "sequence": fact.sequence,
        "type": fact.type,
        "at": fact.at,
        "recorded_at": recorded_at,
        "data": dict(fact.data),
    }
    await insert_if_absent(connection, report_facts, row)  # a redelivery changes nothing
    if fact.type == "RequestRaised":
        requested = fact.data.get("requested_at")
        when = datetime.fromisoformat(requested) if isinstance(requested, str) else fact.at
        case_row = {"ticket_id": ticket_id, "requested_at": when, "recorded_at": recorded_at}
        await insert_if_absent(connection, report_cases, case_row)


async def store_verdict(
    connection: AsyncConnection,
    ticket_id: str,
    verdict: Verdict,
    at: datetime,
    recorded_at: datetime,
) -> None:
    row = {
        "ticket_id": ticket_id[:64],
        "rule": verdict.rule,
        "cycle": verdict.cycle,
        "met": verdict.met,
        "title": verdict.title,
        "at": at,
        "recorded_at": recorded_at,
    }
    await insert_if_absent(connection, report_verdicts, row)  # a redelivery changes nothing


async def _verdicts(
    connection: AsyncConnection, raised: Any, as_of: datetime
) -> dict[str, list[Verdict]]:
    rows = await connection.execute(
        select(report_verdicts)
        .where(report_verdicts.c.ticket_id.in_(raised), report_verdicts.c.recorded_at <= as_of)
        .order_by(report_verdicts.c.ticket_id, report_verdicts.c.rule, report_verdicts.c.cycle)
    )
    found: dict[str, list[Verdict]] = defaultdict(list)
    for row in rows:
        found[row.ticket_id].append(Verdict(row.rule, row.title, row.cycle, bool(row.met)))
    return found


async def cases_raised(
    engine: AsyncEngine, start: datetime, end: datetime, as_of: datetime
) -> list[Case]:
    """The cases raised in [start, end), as recorded by ``as_of``."""
    async with engine.connect() as connection:
        raised = select(report_cases.c.ticket_id).where(
            and_(
                report_cases.c.requested_at >= start,
                report_cases.c.requested_at < end,
                report_cases.c.recorded_at <= as_of,
            )
        )
        rows = await connection.execute(
            select(report_facts)
            .where(
                report_facts.c.ticket_id.in_(raised),
                report_facts.c.recorded_at <= as_of,
            )
            .order_by(report_facts.c.ticket_id, report_facts.c.sequence)
        )
        facts: dict[str, list[Fact]] = defaultdict(list)
        for row in rows:
            facts[row.ticket_id].append(Fact(row.sequence, row.type, row.at, row.data))
        surveyed = await overall_scores(connection, list(facts), as_of)
        verdicts = await _verdicts(connection, raised, as_of)
    return [
        replace(
            fold(ticket_id, ticket_facts),
            survey_overall=surveyed.get(ticket_id),
            verdicts=tuple(verdicts.get(ticket_id, ())),
        )
        for ticket_id, ticket_facts in facts.items()
    ]


async def alarm_states(engine: AsyncEngine) -> dict[str, bool]:
    async with engine.connect() as connection:
        rows = await connection.execute(select(kpi_alarms))
        return {row.kpi: bool(row.alarming) for row in rows}


async def set_alarm(engine: AsyncEngine, kpi: str, alarming: bool, since: datetime) -> None:
    async with transaction(engine) as connection:
        await upsert(
            connection, kpi_alarms, {"kpi": kpi, "alarming": alarming, "since": since}, "kpi"
        )


async def raise_quality_alert(
    engine: AsyncEngine, key: str, alert: QualityAlertRaised, since: datetime
) -> bool:
    """Append the alert to its group's stream unless one was raised since ``since``."""
    stream = f"quality-{key}"
    if len(stream) > 200:  # the log's stream ids are at most 200 characters
        stream = "quality-" + hashlib.sha256(key.encode()).hexdigest()
    async with transaction(engine) as connection:
        session = SqlStreamSession(connection)
        await session.lock(stream)
        recent = await session.read_stream(stream)
        if recent and recent[-1].recorded_at >= since:
            return False
        event = NewEvent(type="QualityAlertRaised", data=alert.model_dump(mode="json"))
        await session.append_at_end(stream, [event], alert.occurred_at)
    return True
