"""The SLA watcher: ticket events in, timers kept, verdicts announced exactly once.

Each ticket event is stored with the ticket's other events and the ticket's timers are
recomputed from all of them (``domain.timers.evaluate``), in the consumer's transaction.
Verdicts that the events alone decide (met, or stopped after the deadline) are announced
then. Verdicts that time decides (a warning, a deadline passing with nothing to stop it)
are announced by ``fire_due``, which asks the ``next_due`` index for what is due, and only
for partitions this watcher owns and has read to the end (so a stop event still on its
way cannot be overtaken by a breach). Announcements are events appended to the stream
``sla-<ticket id>`` in the same transaction as the timer's flags, so a restart or a
redelivery never repeats one; the outbox relay publishes them to ``ticket.sla.v1``.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import and_, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from aftercare.clock import Clock
from aftercare.cloudevents import CloudEvent
from aftercare.db import seconds_until_due, transaction, upsert
from aftercare.eventstore import NewEvent, append_at_end
from aftercare_sla.adapters.tables import sla_facts, sla_tickets, sla_timers
from aftercare_sla.domain.calendar import AroundTheClock, BusinessCalendar, Timekeeping, WorkingDays
from aftercare_sla.domain.events import SlaBreached, SlaEvent, SlaMet, SlaWarning
from aftercare_sla.domain.policy import Policy, ResolvedTarget, format_duration
from aftercare_sla.domain.timers import TERMINAL, Fact, Timer, elapsed, evaluate
from aftercare_ticket.contract import event_name

log = structlog.get_logger(__name__)

_NAMESPACE = uuid.UUID("5a1c7e2e-8d4b-4f7e-9a51-6b3c2d1e0f99")


def _changed(stored: Any, values: dict[str, Any]) -> bool:
    return any(
        getattr(stored, name) != value for name, value in values.items() if name != "updated_at"
    )


def sla_stream(ticket_id: str) -> str:
    return f"sla-{ticket_id}"


def verdict_id(ticket_id: str, rule: str, cycle: int, kind: str) -> uuid.UUID:
    """The same verdict always gets the same id: a repeat would collide, not duplicate."""
    return uuid.uuid5(_NAMESPACE, f"{ticket_id}/{rule}/{cycle}/{kind}")


@dataclass(frozen=True)
class Recomputed:
    tickets: int
    deadlines_moved: int


class SlaWatcher:
    def __init__(
        self,
        engine: AsyncEngine,
        policy: Policy,
        calendar: BusinessCalendar,
        clock: Clock,
        *,
        grace: timedelta = timedelta(seconds=0.5),
        batch: int = 1000,
    ) -> None:
        self.engine = engine
        self.policy = policy
        self.policy_version = policy.version
        self.targets: list[ResolvedTarget] = policy.resolved()
        self.clocks: dict[str, Timekeeping] = {
            "24x7": AroundTheClock(),
            "working_days": WorkingDays(calendar),
        }
        self.clock = clock
        self.grace = grace
        self.batch = batch

    # --- events in -------------------------------------------------------------------

    async def on_ticket_event(
        self, connection: AsyncConnection, event: CloudEvent, partition: int
    ) -> None:
        """Store the event and bring the ticket's timers up to date (consumer handler)."""
        name = event_name(event.type)
        if name is None or event.sequence is None:
            return
        ticket_id = event.subject
        await upsert(
            connection,
            sla_facts,
            {
                "ticket_id": ticket_id,
                "sequence": event.sequence,
                "event_id": event.id,
                "type": name,
                "at": event.time,
                "data": event.data,
            },
            ("ticket_id", "sequence"),
        )
        now = self.clock.now()
        ticket_row: dict[str, Any] = {
            "ticket_id": ticket_id,
            "partition": partition,
            "policy_version": self.policy_version,
            "updated_at": now,
        }
        if name in TERMINAL:
            ticket_row["terminal"] = TERMINAL[name]
        existing = await connection.execute(
            select(sla_tickets.c.terminal).where(sla_tickets.c.ticket_id == ticket_id)
        )
        ticket_row.setdefault("terminal", bool(existing.scalar_one_or_none() or False))
        await upsert(connection, sla_tickets, ticket_row, "ticket_id")
        await self._reconcile(connection, ticket_id, partition, now)

    async def _facts(self, connection: AsyncConnection, ticket_id: str) -> list[Fact]:
        rows = await connection.execute(
            select(sla_facts)
            .where(sla_facts.c.ticket_id == ticket_id)
            .order_by(sla_facts.c.sequence)
        )
        return [Fact(row.sequence, row.type, row.at, row.data) for row in rows]

    async def _reconcile(
        self, connection: AsyncConnection, ticket_id: str, partition: int, now: datetime
    ) -> int:
        """Recompute the ticket's timers; announce what the events decided. Returns how
        many open deadlines moved."""
        timers = evaluate(self.targets, await self._facts(connection, ticket_id), self.clocks)
        stored = {
            (row.rule, row.cycle): row
            for row in await connection.execute(
                select(sla_timers).where(sla_timers.c.ticket_id == ticket_id)
            )
        }
        announcements: list[SlaEvent] = []
        moved = 0
        for timer in timers:
            row = stored.pop(timer.key, None)
            warned = bool(row.warned) if row is not None else False
            breached = bool(row.breached) if row is not None else False
            met_reported = bool(row.met_reported) if row is not None else False
            breached_at = row.breached_at if row is not None else None
            if row is not None and row.deadline != timer.deadline and timer.open:
                moved += 1
            if timer.outcome == "met" and not breached and not met_reported:
                announcements.append(self._met(ticket_id, timer))
                met_reported = True
            elif timer.outcome == "missed" and not breached:
                breach = self._breached(ticket_id, timer, now)
                announcements.append(breach)
                breached, breached_at = True, breach.breached_at
            values = self._row(
                ticket_id, partition, timer, now, warned, breached, met_reported, breached_at
            )
            if row is None or _changed(row, values):  # a ticket's old cycles stay as they are
                await upsert(connection, sla_timers, values, ("ticket_id", "rule", "cycle"))
        for (rule, cycle), row in stored.items():  # a target the policy no longer has
            if not row.breached and not row.met_reported:
                await connection.execute(
                    delete(sla_timers).where(
                        and_(
                            sla_timers.c.ticket_id == ticket_id,
                            sla_timers.c.rule == rule,
                            sla_timers.c.cycle == cycle,
                        )
                    )
                )
            else:
                await connection.execute(
                    update(sla_timers)
                    .where(
                        and_(
                            sla_timers.c.ticket_id == ticket_id,
                            sla_timers.c.rule == rule,
                            sla_timers.c.cycle == cycle,
                        )
                    )
                    .values(next_due=None)
                )
        await self._announce(connection, ticket_id, announcements, now)
        return moved

    def _row(
        self,
        ticket_id: str,
        partition: int,
        timer: Timer,
        now: datetime,
        warned: bool,
        breached: bool,
        met_reported: bool,
        breached_at: datetime | None,
    ) -> dict[str, Any]:
        next_due = None
        if timer.outcome == "running":
            candidates = []
            if not warned and timer.warn_at is not None:
                candidates.append(timer.warn_at)
            if not breached and timer.deadline is not None:
                candidates.append(timer.deadline + self.grace)
            next_due = min(candidates, default=None)
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
            "policy_version": self.policy_version,
            "warned": warned,
            "breached": breached,
            "met_reported": met_reported,
            "breached_at": breached_at,
            "next_due": next_due,
            "updated_at": now,
        }

    # --- verdicts ------------------------------------------------------------------------

    def _common(
        self, ticket_id: str, timer: Timer, at: datetime, used: timedelta
    ) -> dict[str, Any]:
        facts = timer.facts
        return {
            "ticket_id": ticket_id,
            "rule": timer.rule,
            "title": timer.title,
            "cycle": timer.cycle,
            "policy_version": self.policy_version,
            "clock": timer.clock,
            "budget": format_duration(timer.budget),
            "budget_seconds": int(timer.budget.total_seconds()),
            "started_at": timer.started_at,
            "deadline": timer.deadline,
            "elapsed_seconds": int(used.total_seconds()),
            "customer_ref": facts.get("customer_ref"),
            "kind": facts.get("kind"),
            "channel": facts.get("channel"),
            "priority": facts.get("priority"),
            "urgent": facts.get("urgent"),
            "occurred_at": at,
        }

    def _met(self, ticket_id: str, timer: Timer) -> SlaMet:
        assert timer.stopped_at is not None
        return SlaMet(
            **self._common(ticket_id, timer, timer.stopped_at, timer.consumed),
            met_at=timer.stopped_at,
        )

    def _breached(self, ticket_id: str, timer: Timer, now: datetime) -> SlaBreached:
        """A miss the events decided (stopped late or too early), or the deadline passing."""
        early = (
            timer.stopped_at is not None
            and timer.early_from is not None
            and timer.stopped_at < timer.early_from
        )
        breached_at = (
            timer.stopped_at if early or timer.deadline is None else timer.deadline
        ) or now
        late_by = (
            (timer.early_from - breached_at)
            if early and timer.early_from
            else ((timer.stopped_at or now) - breached_at)
        )
        used = timer.consumed if timer.stopped_at else elapsed(timer, self.clocks, now)
        return SlaBreached(
            **self._common(ticket_id, timer, breached_at, used),
            reason="too_early" if early else "deadline_passed",
            breached_at=breached_at,
            detected_at=now,
            late_by_seconds=max(int(late_by.total_seconds()), 0),
        )

    async def _announce(
        self,
        connection: AsyncConnection,
        ticket_id: str,
        announcements: Sequence[SlaEvent],
        now: datetime,
    ) -> None:
        if not announcements:
            return
        new_events = [
            NewEvent(
                type=event.event_type,
                data=event.model_dump(mode="json"),
                schema_version=event.schema_version,
                metadata={"policy_version": self.policy_version},
                event_id=verdict_id(ticket_id, event.rule, event.cycle, event.event_type),
            )
            for event in announcements
        ]
        await append_at_end(connection, sla_stream(ticket_id), new_events, now)
        for event in announcements:
            log.info(
                "sla verdict",
                verdict=event.event_type,
                rule=event.rule,
                ticket_id=ticket_id,
                deadline=event.deadline.isoformat() if event.deadline else None,
            )

    # --- time ----------------------------------------------------------------------------

    async def fire_due(self, partitions: Collection[int] | None = None) -> int:
        """Announce the warnings and breaches that are due, for timers of ``partitions``
        (those this watcher owns and has read to the end; None: all). Returns how many."""
        if partitions is not None and not partitions:
            return 0
        now = self.clock.now()
        query = select(sla_timers).where(sla_timers.c.next_due <= now)
        if partitions is not None:
            query = query.where(sla_timers.c.partition.in_(list(partitions)))
        fired = 0
        async with transaction(self.engine) as connection:
            due = await connection.execute(query.order_by(sla_timers.c.next_due).limit(self.batch))
            for row in due.all():
                fired += await self._fire(connection, row, now)
        return fired

    async def _fire(self, connection: AsyncConnection, row: Any, now: datetime) -> int:
        timer = self._timer_from_row(row)
        announcements: list[SlaEvent] = []
        warned, breached, breached_at = row.warned, row.breached, row.breached_at
        deadline_passed = timer.deadline is not None and timer.deadline + self.grace <= now
        if not breached and deadline_passed:
            breach = self._breached(row.ticket_id, timer, now)
            announcements.append(breach)
            breached, breached_at, warned = True, breach.breached_at, True
        elif not warned and timer.warn_at is not None and timer.warn_at <= now:
            used = elapsed(timer, self.clocks, now)
            announcements.append(
                SlaWarning(
                    **self._common(row.ticket_id, timer, timer.warn_at, used),
                    remaining_seconds=max(int((timer.total - used).total_seconds()), 0),
                )
            )
            warned = True
        values = self._row(
            row.ticket_id,
            row.partition,
            timer,
            now,
            warned,
            breached,
            row.met_reported,
            breached_at,
        )
        await connection.execute(
            update(sla_timers)
            .where(
                and_(
                    sla_timers.c.ticket_id == row.ticket_id,
                    sla_timers.c.rule == row.rule,
                    sla_timers.c.cycle == row.cycle,
                )
            )
            .values(
                warned=warned,
                breached=breached,
                breached_at=breached_at,
                next_due=values["next_due"],
                updated_at=now,
            )
        )
        await self._announce(connection, row.ticket_id, announcements, now)
        return len(announcements)

    def _timer_from_row(self, row: Any) -> Timer:
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

    async def seconds_until_due(self, partitions: Iterable[int] | None = None) -> float | None:
        """How long the scheduler may sleep (see ``aftercare.db.seconds_until_due``)."""
        owned = None if partitions is None else list(partitions)
        return await seconds_until_due(self.engine, sla_timers, self.clock.now(), owned)

    # --- policy change -------------------------------------------------------------------

    async def recompute_open_tickets(self) -> Recomputed:
        """Bring tickets judged under another policy version to this one (replay)."""
        async with self.engine.connect() as connection:
            stale = (
                await connection.execute(
                    select(sla_tickets.c.ticket_id, sla_tickets.c.partition).where(
                        and_(
                            sla_tickets.c.terminal.is_(False),
                            sla_tickets.c.policy_version != self.policy_version,
                        )
                    )
                )
            ).all()
        moved = 0
        now = self.clock.now()
        for ticket_id, partition in stale:
            async with transaction(self.engine) as connection:
                moved += await self._reconcile(connection, ticket_id, partition, now)
                await connection.execute(
                    update(sla_tickets)
                    .where(sla_tickets.c.ticket_id == ticket_id)
                    .values(policy_version=self.policy_version, updated_at=now)
                )
        if stale:
            log.info(
                "sla policy changed: open tickets recomputed",
                policy_version=self.policy_version,
                tickets=len(stale),
                deadlines_moved=moved,
            )
        return Recomputed(len(stale), moved)
