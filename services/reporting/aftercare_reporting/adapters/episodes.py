"""What the reporting service remembers between its checks: which indicators are in an
alarm episode (Q §九), and the quality alerts raised per model, lot and cause (Wn)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.db import transaction, upsert
from aftercare.eventstore import NewEvent, SqlStreamSession
from aftercare_reporting.adapters.tables import kpi_alarms
from aftercare_reporting.domain.events import QualityAlertRaised


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
