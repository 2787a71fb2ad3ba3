"""What the page limit keeps: when each target was last sent a message, and the alert
events held back from a target that had reached the limit.

Only the alert dispatcher (one at a time, under its advisory lock) writes here, so a
count read before sending still holds when the send is recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.db import transaction
from aftercare_sla.adapters.tables import sla_pages_held, sla_pages_sent
from aftercare_sla.domain.escalation import PageLimit

KEPT = timedelta(days=1)
"""Sent rows older than this are pruned (the window is at most a day)."""


class SqlPageLimitStore:
    def __init__(self, engine: AsyncEngine, limit: PageLimit) -> None:
        self.engine = engine
        self.limit = limit

    async def room(self, targets: Sequence[str], now: datetime) -> dict[str, int]:
        """How many more messages each of ``targets`` may take now."""
        if not targets:
            return {}
        query = (
            select(sla_pages_sent.c.target, sla_pages_sent.c.sent_at)
            .where(sla_pages_sent.c.target.in_(set(targets)))
            .where(sla_pages_sent.c.sent_at > now - self.limit.per)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        sent: dict[str, list[datetime]] = {}
        for target, at in rows:
            sent.setdefault(target, []).append(at)
        return {t: self.limit.room(sent.get(t, ()), now) for t in targets}

    async def sent(self, messages: Mapping[str, str], now: datetime) -> None:
        """Record that each target took the message named (target → message id)."""
        if not messages:
            return
        rows = [{"target": t, "message_id": m[:200], "sent_at": now} for t, m in messages.items()]
        async with transaction(self.engine) as connection:
            await connection.execute(insert(sla_pages_sent), rows)

    async def hold(self, target: str, events: Sequence[tuple[str, str]], now: datetime) -> None:
        """Hold (event id, alert id) pairs back from ``target``; holding one twice (a
        run delivered again after a crash) keeps one row."""
        async with transaction(self.engine) as connection:
            held = await connection.execute(
                select(sla_pages_held.c.event_id).where(
                    sla_pages_held.c.target == target,
                    sla_pages_held.c.event_id.in_([e for e, _ in events]),
                )
            )
            known = set(held.scalars())
            rows = [
                {"target": target, "event_id": e, "alert_id": a, "held_at": now}
                for e, a in dict(events).items()
                if e not in known
            ]
            if rows:
                await connection.execute(insert(sla_pages_held), rows)

    async def held(self) -> dict[str, list[tuple[str, str]]]:
        """Every target with events held, each in the order they were held."""
        query = select(sla_pages_held).order_by(sla_pages_held.c.held_at, sla_pages_held.c.event_id)
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        found: dict[str, list[tuple[str, str]]] = {}
        for row in rows:
            found.setdefault(row.target, []).append((row.event_id, row.alert_id))
        return found

    async def holding(self) -> int:
        async with self.engine.connect() as connection:
            count = await connection.execute(select(func.count()).select_from(sla_pages_held))
        return int(count.scalar_one())

    async def released(
        self, target: str, event_ids: Sequence[str], message_id: str, now: datetime
    ) -> None:
        """The held events went to ``target`` as ``message_id``: one transaction drops
        them and records the send (and prunes what no window can count any more)."""
        async with transaction(self.engine) as connection:
            await connection.execute(
                delete(sla_pages_held).where(
                    sla_pages_held.c.target == target,
                    sla_pages_held.c.event_id.in_(list(event_ids)),
                )
            )
            await connection.execute(
                insert(sla_pages_sent).values(
                    target=target, message_id=message_id[:200], sent_at=now
                )
            )
            await connection.execute(
                delete(sla_pages_sent).where(sla_pages_sent.c.sent_at < now - KEPT)
            )
