"""The projection's storage. In (in the consumer's transaction, a whole batch at once):
each touched case's snapshot row, holding its folded case and its facts
(``case_facts``), and each verdict. Out: a period's cases, one snapshot row each; a case
changed after the report's cut-off is folded from the facts recorded by then instead,
so a report "as of" a moment gives the same figures whenever it is asked."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from aftercare.db import insert_all_absent, inserted_of, upsert_all
from aftercare.instants import parse_time
from aftercare_reporting.adapters import case_facts
from aftercare_reporting.adapters.refolding import SNAPSHOT_BATCH, refold
from aftercare_reporting.adapters.snapshots import from_document, to_document
from aftercare_reporting.adapters.tables import (
    report_cases,
    report_snapshots,
    report_verdicts,
)
from aftercare_reporting.domain.cases import Case, Fact, Verdict, fold_onto


@dataclass(frozen=True)
class Arrival:
    """What one batch of messages brought: facts and verdicts, by ticket."""

    facts: Sequence[tuple[str, Fact]] = ()
    verdicts: Sequence[tuple[str, Verdict, datetime]] = ()


@dataclass(frozen=True, slots=True)
class Held:
    """A snapshot row as read: ``case`` is None for a document of an older version."""

    case: Case | None
    last: int
    folded: int
    facts: str


async def store_arrivals(connection: AsyncConnection, arrival: Arrival, now: datetime) -> None:
    """Keep the facts and verdicts (a redelivered one changes nothing) and bring every
    touched case's snapshot up to date."""
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
    await insert_all_absent(connection, report_cases, case_rows)
    await insert_all_absent(connection, report_verdicts, verdict_rows)
    await _refresh_snapshots(connection, arrival, now)


def _following(held: Held, arrived: Sequence[Fact]) -> list[Fact] | None:
    """The arrived facts that carry on from the held ones, in order (any already held
    left out); None when the case must be folded again: a gap, one filling a gap, or a
    document of an older version."""
    if held.case is None or held.folded < held.last:
        return None
    last, following = held.last, []
    for fact in arrived:
        if fact.sequence <= last:
            continue  # held already: a redelivery
        if fact.sequence != last + 1:
            return None
        following.append(fact)
        last = fact.sequence
    return following


async def _refresh_snapshots(
    connection: AsyncConnection, arrival: Arrival, now: datetime, again: Sequence[str] = ()
) -> None:
    """Every touched case's row (and those in ``again``, folded again from their facts:
    a survey answer changed them), locked, brought up to date. A case with no row yet is
    inserted only if no other writer (another group member, a survey answer) inserted
    one meanwhile; if one did, that case is done again from the row it wrote, so
    neither writer's facts are lost."""
    facts: dict[str, list[Fact]] = defaultdict(list)
    for ticket, fact in arrival.facts:
        facts[ticket].append(fact)
    verdicts: dict[str, list[Verdict]] = defaultdict(list)
    for ticket, verdict, _ in arrival.verdicts:
        verdicts[ticket[:64]].append(verdict)
    touched = sorted(set(facts) | set(verdicts) | set(again))
    while touched:
        held = await _snapshots(connection, touched, lock=True)
        rows = await _refreshed(connection, touched, held, facts, verdicts, now, set(again))
        kept = [r for r in rows if r["ticket_id"] in held]
        await upsert_all(connection, report_snapshots, kept, "ticket_id")
        fresh = sorted((r for r in rows if r["ticket_id"] not in held), key=_ticket)
        taken = await inserted_of(connection, report_snapshots, fresh, "ticket_id")
        touched = [r["ticket_id"] for r in fresh if r["ticket_id"] not in taken]


async def _refreshed(
    connection: AsyncConnection,
    touched: Sequence[str],
    held: Mapping[str, Held],
    facts: Mapping[str, Sequence[Fact]],
    verdicts: Mapping[str, Sequence[Verdict]],
    now: datetime,
    again: Collection[str] = (),
) -> list[dict[str, Any]]:
    """The touched cases' new rows: the arrived facts folded onto the held case where
    they carry on from it, else the case folded again from all its facts."""
    rows, whole = [], {}
    for ticket in touched:
        was = held.get(ticket) or Held(Case(ticket), 0, 0, case_facts.EMPTY)
        if ticket in again:
            was = replace(was, case=None)
        arrived = sorted(facts.get(ticket, ()), key=lambda f: f.sequence)
        following = _following(was, arrived)
        if following is None or was.case is None:
            whole[ticket] = case_facts.merge(case_facts.decode(was.facts), arrived, now)
            continue
        case = fold_onto(was.case, following) if following else was.case
        known = set(case.verdicts)
        fresh = [v for v in verdicts.get(ticket, ()) if v not in known]
        if fresh:
            case = replace(case, verdicts=(*case.verdicts, *fresh))
        text = case_facts.append(was.facts, following, now)
        last = was.last + len(following)
        rows.append(_snapshot_row(case, last, last, text, now))
    for case, recorded in await refold(connection, whole, now):
        last = max((r.fact.sequence for r in recorded), default=0)
        rows.append(_snapshot_row(case, last, len(recorded), case_facts.encode(recorded), now))
    return rows


def _ticket(row: Mapping[str, Any]) -> str:
    return str(row["ticket_id"])


def _snapshot_row(case: Case, last: int, folded: int, facts: str, now: datetime) -> dict[str, Any]:
    return {
        "ticket_id": case.ticket_id,
        "requested_at": case.requested_at,
        "updated_at": now,
        "last_sequence": last,
        "folded": folded,
        "document": to_document(case),
        "facts": facts,
    }


async def _snapshots(
    connection: AsyncConnection, tickets: Sequence[str], *, lock: bool = False
) -> dict[str, Held]:
    """The held snapshot rows of ``tickets``; ``lock`` holds them until the transaction
    ends, so a second writer of the same case (another group member, a survey answer)
    waits and then reads what this one wrote instead of overwriting it."""
    held = {}
    for first in range(0, len(tickets), SNAPSHOT_BATCH):
        query = select(report_snapshots).where(
            report_snapshots.c.ticket_id.in_(tickets[first : first + SNAPSHOT_BATCH])
        )
        if lock:  # in ticket order, as every writer does: no two wait on each other
            query = query.order_by(report_snapshots.c.ticket_id).with_for_update()
        rows = await connection.execute(query)
        for row in rows:
            case = from_document(row.document)
            held[row.ticket_id] = Held(case, row.last_sequence, row.folded, row.facts)
    return held


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
        stale = sorted(members - set(cases))
        held = await _snapshots(connection, stale)
        recorded = {
            ticket: [
                r
                for r in case_facts.decode(held[ticket].facts if ticket in held else None)
                if r.recorded_at <= as_of
            ]
            for ticket in stale
        }
        for case, _ in await refold(connection, recorded, as_of):
            cases[case.ticket_id] = case
    return [cases[ticket] for ticket in sorted(cases)]


async def refresh_survey(connection: AsyncConnection, ticket_id: str, now: datetime) -> None:
    """A survey answer changes the case: fold it again with it."""
    await _refresh_snapshots(connection, Arrival(), now, again=[ticket_id])
