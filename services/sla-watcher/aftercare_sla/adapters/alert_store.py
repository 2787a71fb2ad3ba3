"""The on-call alerts' storage: each alert's events in the watcher's log (the stream
``alert-…``, written under that stream's lock, so two watchers deciding at once decide
once and a step is never recorded twice), and its row in ``sla_alerts`` (the listing,
and the next step's instant on the due index)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from aftercare.db import seconds_until_due, upsert
from aftercare.eventstore import NewEvent, RecordedEvent, SqlEventStore
from aftercare.eventstore.sql_store import SqlStreamSession
from aftercare_sla.adapters.tables import sla_alerts, sla_tickets, sla_timers
from aftercare_sla.domain.alert_events import ALERT_EVENT_TYPES, AlertEvent, Resolution
from aftercare_sla.domain.alerting import OnCallAlert, apply, fold


def decoded(recorded: RecordedEvent) -> AlertEvent:
    return ALERT_EVENT_TYPES[recorded.type].model_validate(recorded.data)


@dataclass
class AlertSession:
    """One alert inside a transaction that holds its stream's lock."""

    connection: AsyncConnection
    events: SqlStreamSession
    alert_id: str
    alert: OnCallAlert | None
    version: int

    async def record(
        self, decided: Sequence[AlertEvent], next_due: datetime | None, now: datetime
    ) -> list[RecordedEvent]:
        """Append what was decided and bring the alert's row up to date."""
        if not decided:
            return []
        new = [NewEvent(type=e.event_type, data=e.model_dump(mode="json")) for e in decided]
        stored = await self.events.append(self.alert_id, self.version, new, now, verify=False)
        for event in decided:
            self.alert = apply(self.alert, event)
        self.version += len(decided)
        assert self.alert is not None
        await upsert(self.connection, sla_alerts, _row(self.alert, next_due, now), "alert_id")
        return stored

    async def record_due(self, next_due: datetime | None, now: datetime) -> None:
        """Only the row's next due instant changes."""
        await self.connection.execute(
            update(sla_alerts)
            .where(sla_alerts.c.alert_id == self.alert_id)
            .values(next_due=next_due, updated_at=now)
        )


def _row(alert: OnCallAlert, next_due: datetime | None, now: datetime) -> dict[str, Any]:
    return {
        "alert_id": alert.alert_id,
        "ticket_id": alert.ticket_id,
        "rule": alert.rule,
        "cycle": alert.cycle,
        "paging_group": alert.group,
        "state": alert.state,
        "urgency": alert.urgency,
        "triggered_at": alert.triggered_at,
        "next_due": next_due,
        "updated_at": now,
    }


class SqlAlertStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.store = SqlEventStore(engine)

    @asynccontextmanager
    async def alert(self, alert_id: str) -> AsyncIterator[AlertSession]:
        """The alert as its events say, locked until the block ends (committed then)."""
        async with self.store.transaction() as events:
            await events.lock(alert_id)
            recorded = await events.read_stream(alert_id)
            alert = fold(decoded(r) for r in recorded)
            yield AlertSession(events.connection, events, alert_id, alert, len(recorded))

    async def history(self, alert_id: str) -> list[RecordedEvent]:
        return await self.store.read_stream(alert_id)

    async def due(self, now: datetime, limit: int = 100) -> list[str]:
        """Alerts whose next step or reminder has come, earliest first."""
        query = (
            select(sla_alerts.c.alert_id)
            .where(sla_alerts.c.next_due <= now)
            .order_by(sla_alerts.c.next_due)
            .limit(limit)
        )
        async with self.engine.connect() as connection:
            return list((await connection.execute(query)).scalars())

    async def seconds_until_due(self, now: datetime) -> float | None:
        return await seconds_until_due(self.engine, sla_alerts, now)

    async def listed(
        self, state: str | None, group: str | None, limit: int, ticket: str | None = None
    ) -> Sequence[Any]:
        """Alerts newest first; ``state`` ``open`` means triggered or acknowledged."""
        query = select(sla_alerts).order_by(sla_alerts.c.triggered_at.desc()).limit(limit)
        if state == "open":
            query = query.where(sla_alerts.c.state != "resolved")
        elif state is not None:
            query = query.where(sla_alerts.c.state == state)
        if group is not None:
            query = query.where(sla_alerts.c.paging_group == group)
        if ticket is not None:
            query = query.where(sla_alerts.c.ticket_id == ticket)
        async with self.engine.connect() as connection:
            return (await connection.execute(query)).all()

    async def ended_clocks(self, limit: int = 500) -> list[tuple[str, Resolution]]:
        """Open alerts whose clock has ended (met, stopped late, paused, cancelled or
        gone) or whose ticket has: each with why, for it to resolve by itself."""
        timer = and_(
            sla_timers.c.ticket_id == sla_alerts.c.ticket_id,
            sla_timers.c.rule == sla_alerts.c.rule,
            sla_timers.c.cycle == sla_alerts.c.cycle,
        )
        reason = case(
            (sla_tickets.c.terminal.is_(True), "ticket_ended"),
            (sla_timers.c.status.is_(None), "cancelled"),
            (sla_timers.c.status == "met", "met"),
            (sla_timers.c.status == "missed", "stopped"),
            (sla_timers.c.status == "cancelled", "cancelled"),
            (sla_timers.c.status == "paused", "paused"),
            else_=None,
        )
        query = (
            select(sla_alerts.c.alert_id, reason.label("reason"))
            .select_from(
                sla_alerts.outerjoin(sla_timers, timer).outerjoin(
                    sla_tickets, sla_tickets.c.ticket_id == sla_alerts.c.ticket_id
                )
            )
            .where(sla_alerts.c.state != "resolved", reason.is_not(None))
            .limit(limit)
        )
        async with self.engine.connect() as connection:
            return [(row.alert_id, row.reason) for row in await connection.execute(query)]
