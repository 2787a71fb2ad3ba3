"""Published reports: the publication, its files and a ``ReportPublished`` event (stream
``report-<id>``: the period, the cut-off, each file's size and SHA-256) in one
transaction; a publication already stored is left as it is."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.db import insert_if_absent, transaction
from aftercare.eventstore import NewEvent, SqlStreamSession
from aftercare_reporting.adapters.tables import report_documents, report_publications

MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


@dataclass(frozen=True)
class Publication:
    publication_id: str
    cadence: str
    period_start: datetime
    period_end: datetime
    as_of: datetime
    language: str
    title: str
    requested_by: str
    created_at: datetime


async def store_publication(
    engine: AsyncEngine, publication: Publication, files: dict[str, bytes]
) -> bool:
    """Store it with its files and its event; False if it was published already."""
    async with transaction(engine) as connection:
        row = vars(publication)
        if not await insert_if_absent(connection, report_publications, dict(row)):
            return False
        described = {}
        for format_, content in files.items():
            digest = hashlib.sha256(content).hexdigest()
            described[format_] = {"size": len(content), "sha256": digest}
            await insert_if_absent(
                connection,
                report_documents,
                {
                    "publication_id": publication.publication_id,
                    "format": format_,
                    "media_type": MEDIA_TYPES[format_],
                    "size": len(content),
                    "sha256": digest,
                    "content": content,
                },
            )
        data: dict[str, Any] = {
            key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in row.items()
        }
        event = NewEvent(type="ReportPublished", data={**data, "files": described})
        stream = f"report-{publication.publication_id}"
        await SqlStreamSession(connection).append_at_end(stream, [event], publication.created_at)
    return True


async def listing(
    engine: AsyncEngine, limit: int, publication_id: str | None = None
) -> list[dict[str, Any]]:
    """The publications, the latest first (or the one asked for), with their files."""
    query = select(report_publications).order_by(report_publications.c.created_at.desc())
    if publication_id is not None:
        query = query.where(report_publications.c.publication_id == publication_id)
    async with engine.connect() as connection:
        rows = await connection.execute(query.limit(limit))
        found = [dict(row._mapping) for row in rows]
        ids = [row["publication_id"] for row in found]
        files = await connection.execute(
            select(
                report_documents.c.publication_id,
                report_documents.c.format,
                report_documents.c.size,
                report_documents.c.sha256,
            ).where(report_documents.c.publication_id.in_(ids))
        )
    by_id: dict[str, dict[str, Any]] = {i: {} for i in ids}
    for file in files:
        by_id[file.publication_id][file.format] = {"size": file.size, "sha256": file.sha256}
    return [{**row, "files": by_id[row["publication_id"]]} for row in found]


async def document(
    engine: AsyncEngine, publication_id: str, format_: str
) -> tuple[bytes, str] | None:
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                select(report_documents.c.content, report_documents.c.media_type).where(
                    report_documents.c.publication_id == publication_id,
                    report_documents.c.format == format_,
                )
            )
        ).first()
    return None if row is None else (bytes(row.content), str(row.media_type))
