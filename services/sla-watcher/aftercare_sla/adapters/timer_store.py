"""The watcher's tables as the service layer needs them: each ticket's facts (its public
events), its row (partition, policy version, ended), and its timers with their flags.
``SqlTimers`` works in the caller's transaction; ``SqlWatcherStore`` opens them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from aftercare.cloudevents import CloudEvent
from aftercare.db import seconds_until_due, transaction, upsert
from aftercare.eventstore import SqlEventStore, SqlStreamSession
from aftercare.eventstore.sql_store import outages_as_unavailable
from aftercare_sla.adapters.queue_store import refreshed_queue_entries
from aftercare_sla.adapters.tables import sla_facts, sla_tickets, sla_timers
from aftercare_sla.adapters.unit_of_work import WatcherUnitOfWork
from aftercare_sla.domain.facts import Fact
from aftercare_sla.domain.timer import Timer


def timer_row(
    ticket_id: str,
    partition: int,
    timer: Timer,
    policy_version: str,
    flags: dict[str, Any],
    next_due: datetime | None,
    now: datetime,
) -> dict[str, Any]:
    """The stored form of a timer; ``flags``: warned, breached, met_reported, breached_at."""
    return {
        "ticket_id": ticket_id,
        "rule": timer.rule,
        "cycle": timer.cycle,
        "partition": partition,
        "title": timer.title,
        "clock": timer.clock,
        "budget_seconds": int(timer.budget.total_seconds()),
        "status": timer.outcome,
        "started_at": timer.started_at,
        "deadline": timer.deadline,
        "warn_at": timer.warn_at,
        "stopped_at": timer.stopped_at,
        "running_since": timer.running_since,
        "paused_since": timer.paused_since,
        "pause_reasons": ",".join(sorted(timer.pause_reasons)),
        "consumed_seconds": int(timer.consumed.total_seconds()),
        "total_seconds": int(timer.total.total_seconds()),
        "facts": {k: v for k, v in timer.facts.items() if k != "requested_at"},
        "policy_version": policy_version,
        **flags,
        "next_due": next_due,
        "updated_at": now,
    }


def timer_from_row(row: Any) -> Timer:
    return Timer(
        rule=row.rule,
        title=row.title,
        cycle=row.cycle,
        clock=row.clock,
        budget=timedelta(seconds=row.budget_seconds),
        started_at=row.started_at,
        total=timedelta(seconds=row.total_seconds),
        consumed=timedelta(seconds=row.consumed_seconds),
        running_since=row.running_since,
        paused_since=row.paused_since,
        pause_reasons=frozenset(filter(None, row.pause_reasons.split(","))),
        outcome=row.status,
        stopped_at=row.stopped_at,
        deadline=row.deadline,
        warn_at=row.warn_at,
        early_from=None,
        facts=row.facts,
    )


def _key(ticket_id: str, rule: str, cycle: int) -> Any:
    return and_(
        sla_timers.c.ticket_id == ticket_id, sla_timers.c.rule == rule, sla_timers.c.cycle == cycle
    )


class SqlTimers:
    """``Timers`` on one connection, inside the caller's transaction."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def store_fact(self, name: str, event: CloudEvent) -> None:
        row = {
            "ticket_id": event.subject,
            "sequence": event.sequence,
            "event_id": event.id,
            "type": name,
            "at": event.time,
            "data": event.data,
        }
        await upsert(self.connection, sla_facts, row, ("ticket_id", "sequence"))

    async def facts_of(self, ticket_id: str) -> list[Fact]:
        rows = await self.connection.execute(
            select(sla_facts)
            .where(sla_facts.c.ticket_id == ticket_id)
            .order_by(sla_facts.c.sequence)
        )
        return [Fact(row.sequence, row.type, row.at, row.data) for row in rows]

    async def mark_ticket(
        self,
        ticket_id: str,
        partition: int,
        policy_version: str,
        terminal: bool | None,
        now: datetime,
    ) -> None:
        """The ticket's row; ``terminal`` None keeps what it was."""
        if terminal is None:
            existing = await self.connection.execute(
                select(sla_tickets.c.terminal).where(sla_tickets.c.ticket_id == ticket_id)
            )
            terminal = bool(existing.scalar_one_or_none() or False)
        row = {
            "ticket_id": ticket_id,
            "partition": partition,
            "policy_version": policy_version,
            "terminal": terminal,
            "updated_at": now,
        }
        await upsert(self.connection, sla_tickets, row, "ticket_id")

    async def timers_of(self, ticket_id: str) -> dict[tuple[str, int], Any]:
        rows = await self.connection.execute(
            select(sla_timers).where(sla_timers.c.ticket_id == ticket_id)
        )
        return {(row.rule, row.cycle): row for row in rows}

    async def save_timer(self, stored: Any, values: dict[str, Any]) -> None:
        """Write the timer only if it changed: a ticket's old cycles stay as they are."""
        changed = stored is None or any(
            getattr(stored, name) != value for name, value in values.items() if name != "updated_at"
        )
        if changed:
            await upsert(self.connection, sla_timers, values, ("ticket_id", "rule", "cycle"))

    async def retire(self, ticket_id: str, row: Any) -> None:
        """A target the policy no longer has: forgotten, unless a verdict was given on it (then
        kept, never looked at again)."""
        if not row.breached and not row.met_reported:
            await self.connection.execute(
                delete(sla_timers).where(_key(ticket_id, row.rule, row.cycle))
            )
        else:
            await self.connection.execute(
                update(sla_timers).where(_key(ticket_id, row.rule, row.cycle)).values(next_due=None)
            )

    async def due_timers(
        self, now: datetime, partitions: Collection[int] | None, limit: int
    ) -> list[Any]:
        query = select(sla_timers).where(sla_timers.c.next_due <= now)
        if partitions is not None:
            query = query.where(sla_timers.c.partition.in_(list(partitions)))
        return list(
            (
                await self.connection.execute(query.order_by(sla_timers.c.next_due).limit(limit))
            ).all()
        )

    async def set_flags_of(self, changes: Sequence[tuple[Any, dict[str, Any]]]) -> None:
        """One statement executed for every timer (the driver pipelines them): a round of
        due timers is not a round trip per timer."""
        if not changes:
            return
        columns = list(changes[0][1])
        statement = (
            update(sla_timers)
            .where(
                sla_timers.c.ticket_id == bindparam("key_ticket"),
                sla_timers.c.rule == bindparam("key_rule"),
                sla_timers.c.cycle == bindparam("key_cycle"),
            )
            .values({name: bindparam(f"new_{name}") for name in columns})
        )
        rows = [
            {
                "key_ticket": row.ticket_id,
                "key_rule": row.rule,
                "key_cycle": row.cycle,
                **{f"new_{name}": values[name] for name in columns},
            }
            for row, values in changes
        ]
        await self.connection.execute(statement, rows)

    async def refresh_queue_entries(self, ticket_ids: Collection[str]) -> None:
        if ticket_ids:
            await self.connection.execute(refreshed_queue_entries(sorted(ticket_ids)))

    async def set_policy_version(self, ticket_id: str, policy_version: str, now: datetime) -> None:
        await self.connection.execute(
            update(sla_tickets)
            .where(sla_tickets.c.ticket_id == ticket_id)
            .values(policy_version=policy_version, updated_at=now)
        )


class SqlWatcherStore:
    """``WatcherStore`` over an async SQLAlchemy engine (PostgreSQL or SQLite)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.events = SqlEventStore(engine)

    @staticmethod
    def unit_on(connection: AsyncConnection) -> WatcherUnitOfWork:
        """The unit of work of a transaction someone else opened (the consumer's)."""
        return WatcherUnitOfWork(SqlStreamSession(connection), SqlTimers(connection))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[WatcherUnitOfWork]:
        async with outages_as_unavailable(), transaction(self.engine) as connection:
            yield self.unit_on(connection)

    async def seconds_until_due(
        self, now: datetime, partitions: Collection[int] | None
    ) -> float | None:
        return await seconds_until_due(self.engine, sla_timers, now, partitions)

    async def tickets_judged_under_another_policy(
        self, policy_version: str
    ) -> list[tuple[str, int]]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(sla_tickets.c.ticket_id, sla_tickets.c.partition).where(
                    and_(
                        sla_tickets.c.terminal.is_(False),
                        sla_tickets.c.policy_version != policy_version,
                    )
                )
            )
            return [(row.ticket_id, row.partition) for row in rows]

    async def timers_of_ticket(self, ticket_id: str) -> list[Any]:
        """Every timer of the ticket, in the order its clocks started."""
        query = (
            select(sla_timers)
            .where(sla_timers.c.ticket_id == ticket_id)
            .order_by(sla_timers.c.started_at, sla_timers.c.rule, sla_timers.c.cycle)
        )
        async with outages_as_unavailable(), self.engine.connect() as connection:
            return list((await connection.execute(query)).all())

    async def breaches(self, since: datetime | None, limit: int) -> list[Any]:
        """Breached timers in the order they were breached (from ``since``)."""
        query = select(sla_timers).where(sla_timers.c.breached.is_(True))
        if since is not None:
            query = query.where(sla_timers.c.breached_at >= since)
        query = query.order_by(sla_timers.c.breached_at, sla_timers.c.ticket_id).limit(limit)
        async with outages_as_unavailable(), self.engine.connect() as connection:
            return list((await connection.execute(query)).all())
