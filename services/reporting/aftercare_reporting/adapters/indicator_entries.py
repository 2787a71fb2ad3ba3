"""Operator-entered indicators: each entry an ``IndicatorEntered`` event in stream
``indicator-<id>`` (who, when, the value and from when it holds) and the row the score
reads, in one transaction. An entry that repeats the value already held changes nothing,
so loading the same file at every start records each entry once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.db import insert_if_absent, transaction
from aftercare.eventstore import NewEvent, SqlStreamSession
from aftercare_reporting.adapters.tables import indicator_entries


@dataclass(frozen=True)
class Entry:
    indicator: str
    valid_from: datetime
    value: float
    note: str = ""


async def record_entries(
    engine: AsyncEngine, entries: list[Entry], entered_by: str, at: datetime
) -> int:
    """Record the entries that change something; how many did."""
    changed = 0
    async with transaction(engine) as connection:
        session = SqlStreamSession(connection)
        for entry in entries:
            held = await connection.execute(
                select(indicator_entries.c.value, indicator_entries.c.note)
                .where(
                    indicator_entries.c.indicator == entry.indicator,
                    indicator_entries.c.valid_from == entry.valid_from,
                )
                .order_by(indicator_entries.c.recorded_at.desc())
                .limit(1)
            )
            row = held.first()
            if row is not None and row.value == entry.value and row.note == entry.note:
                continue
            data = {
                "indicator": entry.indicator,
                "valid_from": entry.valid_from.isoformat(),
                "value": entry.value,
                "note": entry.note,
                "entered_by": entered_by,
            }
            event = NewEvent(type="IndicatorEntered", data=data)
            await session.append_at_end(f"indicator-{entry.indicator}", [event], at)
            values = {**data, "valid_from": entry.valid_from, "recorded_at": at}
            await insert_if_absent(connection, indicator_entries, values)
            changed += 1
    return changed


async def values_before(engine: AsyncEngine, moment: datetime, as_of: datetime) -> dict[str, float]:
    """Each indicator's value holding just before ``moment`` (a period's end), as
    recorded by ``as_of``: the entry with the latest ``valid_from`` before it, with its
    latest correction known then."""
    query = (
        select(indicator_entries.c.indicator, indicator_entries.c.value)
        .where(indicator_entries.c.valid_from < moment, indicator_entries.c.recorded_at <= as_of)
        .order_by(
            indicator_entries.c.indicator,
            indicator_entries.c.valid_from,
            indicator_entries.c.recorded_at,
        )
    )
    async with engine.connect() as connection:
        return {row.indicator: float(row.value) for row in await connection.execute(query)}


async def entries(
    engine: AsyncEngine, indicator: str | None, limit: int
) -> list[dict[str, object]]:
    query = select(indicator_entries).order_by(
        indicator_entries.c.indicator,
        indicator_entries.c.valid_from.desc(),
        indicator_entries.c.recorded_at.desc(),
    )
    if indicator is not None:
        query = query.where(indicator_entries.c.indicator == indicator)
    async with engine.connect() as connection:
        return [dict(row._mapping) for row in await connection.execute(query.limit(limit))]
