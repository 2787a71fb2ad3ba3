"""The projection's storage. In (in the consumer's transaction, a whole batch at once):
each published fact, each verdict, and every touched case folded again into its
snapshot. Out: a period's cases, one snapshot row each; a case changed after the
report's cut-off is folded from the facts recorded by then instead, so a report "as
of" a moment gives the same figures whenever it is asked."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from aftercare.db import insert_all_absent, upsert_all
from aftercare.instants import parse_time
from aftercare_reporting.adapters.snapshots import from_document, to_document
from aftercare_reporting.adapters.tables import (
    report_cases,
    report_facts,
    report_snapshots,
    report_verdicts,
    survey_answers,
)
from aftercare_reporting.domain.cases import Case, Fact, Verdict, fold, fold_onto

SNAPSHOT_BATCH = 2000
"""Tickets per IN (…) list: well below every driver's parameter limit."""


@dataclass(frozen=True)
class Arrival:
    """What one batch of messages brought: facts and verdicts, by ticket."""

    facts: Sequence[tuple[str, Fact]] = ()
    verdicts: Sequence[tuple[str, Verdict, datetime]] = ()


async def store_arrivals(connection: AsyncConnection, arrival: Arrival, now: datetime) -> None:
    """Keep the facts and verdicts (a redelivered one changes nothing) and bring every
    touched case's snapshot up to date."""
    fact_rows = [
        {
            "ticket_id": ticket,
            "sequence": fact.sequence,
            "type": fact.type,
            "at": fact.at,
            "recorded_at": now,
            "data": dict(fact.data),
        }
        for ticket, fact in arrival.facts
    ]
    case_rows = [
        {
            "ticket_id": ticket,
            "requested_at": parse_time(fact.data.get("requested_at")) or fact.at,
            "recorded_at": now,
        }
        for ticket, fact in arrival.facts
        if fact.type == "RequestRaised"
    ]
    verdict_rows = [
        {
            "ticket_id": ticket[:64],
            "rule": verdict.rule,
            "cycle": verdict.cycle,
            "met": verdict.met,
            "title": verdict.title,
            "at": at,
            "recorded_at": now,
        }
        for ticket, verdict, at in arrival.verdicts
    ]
    await insert_all_absent(connection, report_facts, fact_rows)
    await insert_all_absent(connection, report_cases, case_rows)
    await insert_all_absent(connection, report_verdicts, verdict_rows)
    await _refresh_snapshots(connection, arrival, now)


async def _refresh_snapshots(connection: AsyncConnection, arrival: Arrival, now: datetime) -> None:
    facts: dict[str, list[Fact]] = defaultdict(list)
    for ticket, fact in arrival.facts:
        facts[ticket].append(fact)
    verdicts: dict[str, list[Verdict]] = defaultdict(list)
    for ticket, verdict, _ in arrival.verdicts:
        verdicts[ticket[:64]].append(verdict)
    touched = sorted(set(facts) | set(verdicts))
    held = await _snapshots(connection, touched)
    rows, refold = [], []
    for ticket in touched:
        case, last, folded = held.get(ticket, (Case(ticket), 0, 0))
        following: list[Fact] = []
        for fact in sorted(facts.get(ticket, ()), key=lambda f: f.sequence):
            if fact.sequence == last + 1 and folded == last:
                following.append(fact)
                last = folded = fact.sequence
            elif fact.sequence > last or folded < last:  # a gap, or one filling a gap
                refold.append(ticket)
                break
        else:
            case = fold_onto(case, following) if following else case
            known = set(case.verdicts)
            fresh = [v for v in verdicts.get(ticket, ()) if v not in known]
            if fresh:
                case = replace(case, verdicts=(*case.verdicts, *fresh))
            rows.append(_snapshot_row(case, last, folded, now))
    for case, last, folded in await _refold(connection, refold, now):
        rows.append(_snapshot_row(case, last, folded, now))
    await upsert_all(connection, report_snapshots, rows, "ticket_id")


def _snapshot_row(case: Case, last: int, folded: int, now: datetime) -> dict[str, Any]:
    return {
        "ticket_id": case.ticket_id,
        "requested_at": case.requested_at,
        "updated_at": now,
        "last_sequence": last,
        "folded": folded,
        "document": to_document(case),
    }


async def _snapshots(
    connection: AsyncConnection, tickets: Sequence[str]
) -> dict[str, tuple[Case, int, int]]:
    """The held snapshots; one in an older document version reads as having a gap (so
    the case is folded again from its facts)."""
    held = {}
    for first in range(0, len(tickets), SNAPSHOT_BATCH):
        chosen = tickets[first : first + SNAPSHOT_BATCH]
        rows = await connection.execute(
            select(report_snapshots).where(report_snapshots.c.ticket_id.in_(chosen))
        )
        for row in rows:
            case = from_document(row.document)
            if case is None:
                held[row.ticket_id] = (Case(row.ticket_id), row.last_sequence, -1)
            else:
                held[row.ticket_id] = (case, row.last_sequence, row.folded)
    return held


async def _recorded_rows(
    connection: AsyncConnection,
    table: Table,
    tickets: Sequence[str],
    recorded: Any,
    as_of: datetime,
    order: Sequence[Any],
) -> list[Any]:
    """The rows of ``tickets`` recorded by ``as_of``, fetched a slice of tickets at a
    time (the drivers' parameter limits are far below a quarter's cases)."""
    found: list[Any] = []
    for first in range(0, len(tickets), SNAPSHOT_BATCH):
        chosen = tickets[first : first + SNAPSHOT_BATCH]
        query = select(table).where(table.c.ticket_id.in_(chosen), recorded <= as_of)
        found += list(await connection.execute(query.order_by(*order)))
    return found


async def _refold(
    connection: AsyncConnection, tickets: Collection[str], as_of: datetime
) -> list[tuple[Case, int, int]]:
    """Cases folded from their facts, verdicts and survey answers recorded by ``as_of``,
    with the last sequence seen and how many facts were folded."""
    if not tickets:
        return []
    chosen = sorted(tickets)
    facts: dict[str, list[Fact]] = defaultdict(list)
    in_order = (report_facts.c.ticket_id, report_facts.c.sequence)
    for row in await _recorded_rows(
        connection, report_facts, chosen, report_facts.c.recorded_at, as_of, in_order
    ):
        facts[row.ticket_id].append(Fact(row.sequence, row.type, row.at, row.data))
    verdicts: dict[str, list[Verdict]] = defaultdict(list)
    order = (report_verdicts.c.ticket_id, report_verdicts.c.rule, report_verdicts.c.cycle)
    for row in await _recorded_rows(
        connection, report_verdicts, chosen, report_verdicts.c.recorded_at, as_of, order
    ):
        verdicts[row.ticket_id].append(Verdict(row.rule, row.title, row.cycle, bool(row.met)))
    surveyed = {  # each case's latest overall score
        row.ticket_id: int(row.overall)
        for row in await _recorded_rows(
            connection,
            survey_answers,
            chosen,
            survey_answers.c.answered_at,
            as_of,
            (survey_answers.c.answered_at,),
        )
    }
    folded = []
    for ticket in chosen:
        found = facts.get(ticket, [])
        case = replace(
            fold(ticket, found),
            survey_overall=surveyed.get(ticket),
            verdicts=tuple(verdicts.get(ticket, ())),
        )
        folded.append((case, max((f.sequence for f in found), default=0), len(found)))
    return folded


async def last_change(engine: AsyncEngine, start: datetime, end: datetime) -> datetime | None:
    """When anything about a case raised in [start, end) was last recorded (every fact,
    verdict and survey answer refreshes its case's snapshot)."""
    async with engine.connect() as connection:
        changed: datetime | None = await connection.scalar(
            select(func.max(report_snapshots.c.updated_at)).where(
                report_snapshots.c.requested_at >= start, report_snapshots.c.requested_at < end
            )
        )
    return changed


async def cases_raised(
    engine: AsyncEngine, start: datetime, end: datetime, as_of: datetime
) -> list[Case]:
    """The cases raised in [start, end), as recorded by ``as_of``: each one's snapshot
    when nothing about it was recorded since, else folded as it stood then."""
    async with engine.connect() as connection:
        raised = await connection.execute(
            select(report_cases.c.ticket_id).where(
                and_(
                    report_cases.c.requested_at >= start,
                    report_cases.c.requested_at < end,
                    report_cases.c.recorded_at <= as_of,
                )
            )
        )
        members = {row.ticket_id for row in raised}
        snapshots = await connection.execute(
            select(report_snapshots.c.ticket_id, report_snapshots.c.document).where(
                report_snapshots.c.requested_at >= start,
                report_snapshots.c.requested_at < end,
                report_snapshots.c.updated_at <= as_of,
            )
        )
        cases = {
            row.ticket_id: case
            for row in snapshots
            if row.ticket_id in members and (case := from_document(row.document)) is not None
        }
        stale = members - set(cases)
        for case, _, _ in await _refold(connection, stale, as_of):
            cases[case.ticket_id] = case
    return [cases[ticket] for ticket in sorted(cases)]


async def refresh_survey(connection: AsyncConnection, ticket_id: str, now: datetime) -> None:
    """A survey answer changes the case: fold it again with it."""
    for case, last, folded in await _refold(connection, [ticket_id], now):
        await upsert_all(
            connection, report_snapshots, [_snapshot_row(case, last, folded, now)], "ticket_id"
        )
