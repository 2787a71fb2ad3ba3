"""The notifier's HTTP API: which updates went (or did not go) to which ticket's customer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import FastAPI, Query
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.asgi import DoorLimits
from aftercare.auth import KeyRing, PrincipalDep
from aftercare.http import create_service_app
from aftercare_notifier.adapters.tables import notifications


class NotificationOut(BaseModel):
    id: str
    ticket_id: str
    kind: str
    """change (sent at once) or progress (the 30/60-minute cadence)."""
    template: str
    status: str
    """pending, sent, failed (with the reason), or cancelled."""
    attempts: int
    channels: list[str]
    recipients: str | None
    """Masked (P-PII)."""
    subject: str | None
    language: str | None
    last_error: str | None
    recorded: bool
    """ProgressReported was recorded on the ticket."""
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None


def create_notifier_app(
    engine: AsyncEngine, keys: KeyRing, limits: DoorLimits | None = None
) -> FastAPI:
    app = create_service_app(
        title="Aftercare notifier",
        description="Customer progress updates: what was sent, when, how, and what failed.",
        engine=engine,
        keys=keys,
        limits=limits,
    )

    @app.get("/notifications", response_model=list[NotificationOut], tags=["notifications"])
    async def list_notifications(
        _: PrincipalDep,
        ticket_id: Annotated[str | None, Query(max_length=100)] = None,
        status: Annotated[Literal["pending", "sent", "failed", "cancelled"] | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[NotificationOut]:
        """Newest first."""
        query = select(notifications)
        if ticket_id is not None:
            query = query.where(notifications.c.ticket_id == ticket_id)
        if status is not None:
            query = query.where(notifications.c.status == status)
        query = query.order_by(notifications.c.created_at.desc(), notifications.c.id).limit(limit)
        async with engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [
            NotificationOut(
                id=row.id,
                ticket_id=row.ticket_id,
                kind=row.kind,
                template=row.template,
                status=row.status,
                attempts=row.attempts,
                channels=[c for c in (row.channels or "").split(",") if c],
                recipients=row.recipients,
                subject=row.subject,
                language=row.language,
                last_error=row.last_error,
                recorded=row.recorded,
                created_at=row.created_at,
                sent_at=row.sent_at,
                next_attempt_at=row.next_attempt_at,
            )
            for row in rows
        ]

    return app
