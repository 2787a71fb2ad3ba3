"""Self-assessments as versioned records: each version an ``AssessmentRecorded`` event
in stream ``assessment-<id>`` (who entered it, when, the whole record and its score),
the latest one also in a row for listing, both in one transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.db import transaction, upsert
from aftercare.eventstore import NewEvent, RecordedEvent, SqlStreamSession
from aftercare_reporting.adapters.tables import assessments

EVENT_TYPE = "AssessmentRecorded"


def stream_of(assessment_id: str) -> str:
    return f"assessment-{assessment_id}"


async def record_version(
    engine: AsyncEngine,
    assessment_id: str,
    expected_version: int | None,
    document: dict[str, Any],
    at: datetime,
) -> int:
    """Store a new version; ``ConcurrencyError`` when ``expected_version`` (if given) is
    not the current one. Returns the new version."""
    stream = stream_of(assessment_id)
    async with transaction(engine) as connection:
        session = SqlStreamSession(connection)
        await session.lock(stream)
        current = await session.stream_version(stream)
        version = current if expected_version is None else expected_version
        event = NewEvent(type=EVENT_TYPE, data=document)
        [stored] = await session.append(stream, version, [event], at)
        row = {
            "assessment_id": assessment_id,
            "version": stored.version,
            "title": document["title"],
            "assessed_on": document["assessed_on"],
            "total": document["score"]["total"],
            "level": document["score"]["level"],
            "entered_by": document["entered_by"],
            "recorded_at": at,
        }
        await upsert(connection, assessments, row, "assessment_id")
    return stored.version


async def versions_of(engine: AsyncEngine, assessment_id: str) -> list[RecordedEvent]:
    async with transaction(engine) as connection:
        return await SqlStreamSession(connection).read_stream(stream_of(assessment_id))


async def listing(engine: AsyncEngine, limit: int) -> list[dict[str, Any]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(assessments).order_by(assessments.c.recorded_at.desc()).limit(limit)
        )
        return [dict(row._mapping) for row in rows]
