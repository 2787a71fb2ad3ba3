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

from aftercare.business_calendar import BusinessCalendar
from aftercare.clock import Clock
from aftercare.cloudevents import CloudEvent
from aftercare.eventstore import NewEvent
from aftercare_sla.adapters.timer_store import timer_from_row, timer_row
from aftercare_sla.adapters.unit_of_work import WatcherStore, WatcherUnitOfWork
from aftercare_sla.domain import verdicts
from aftercare_sla.domain.calendar import AroundTheClock, Timekeeping, WorkingDays
from aftercare_sla.domain.events import SlaBreached, SlaEvent
from aftercare_sla.domain.facts import TERMINAL
from aftercare_sla.domain.policy import Policy, ResolvedTarget
from aftercare_sla.domain.timers import evaluate
from aftercare_ticket.contract import event_name

log = structlog.get_logger(__name__)

_NAMESPACE = uuid.UUID("5a1c7e2e-8d4b-4f7e-9a51-6b3c2d1e0f99")


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
        store: WatcherStore,
        policy: Policy,
        calendar: BusinessCalendar,
        clock: Clock,
        *,
        grace: timedelta = timedelta(seconds=0.5),
        batch: int = 1000,
    ) -> None:
        self.store = store
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
        self, unit: WatcherUnitOfWork, event: CloudEvent, partition: int
    ) -> None:
        """Store the event and bring the ticket's timers up to date (consumer handler)."""
        name = event_name(event.type)
        if name is None or event.sequence is None:
            return
        now = self.clock.now()
        await unit.timers.store_fact(name, event)
        await unit.timers.mark_ticket(
            event.subject, partition, self.policy_version, TERMINAL.get(name), now
        )
        await self._reconcile(unit, event.subject, partition, now)

    async def _reconcile(
        self, unit: WatcherUnitOfWork, ticket_id: str, partition: int, now: datetime
    ) -> int:
        """Recompute the ticket's timers; announce what the events decided. Returns how
        many open deadlines moved."""
        timers = evaluate(self.targets, await unit.timers.facts_of(ticket_id), self.clocks)
        stored = await unit.timers.timers_of(ticket_id)
        announcements: list[SlaEvent] = []
        moved = 0
        for timer in timers:
            row = stored.pop(timer.key, None)
            flags: dict[str, Any] = {
                "warned": bool(row.warned) if row is not None else False,
                "breached": bool(row.breached) if row is not None else False,
                "met_reported": bool(row.met_reported) if row is not None else False,
                "breached_at": row.breached_at if row is not None else None,
            }
            if row is not None and row.deadline != timer.deadline and timer.open:
                moved += 1
            if timer.outcome == "met" and not flags["breached"] and not flags["met_reported"]:
                announcements.append(verdicts.met(ticket_id, timer, self.policy_version))
                flags["met_reported"] = True
            elif timer.outcome == "missed" and not flags["breached"]:
                breach = verdicts.breached(ticket_id, timer, now, self.clocks, self.policy_version)
                announcements.append(breach)
                flags.update(breached=True, breached_at=breach.breached_at)
            look = verdicts.next_look(timer, flags["warned"], flags["breached"], self.grace)
            values = timer_row(ticket_id, partition, timer, self.policy_version, flags, look, now)
            await unit.timers.save_timer(row, values)
        for row in stored.values():
            await unit.timers.retire(ticket_id, row)
        await unit.timers.refresh_queue_entries([ticket_id])
        await self._announce(unit, [(ticket_id, announcements)], now)
        return moved

    async def _announce(
        self,
        unit: WatcherUnitOfWork,
        announced: Sequence[tuple[str, Sequence[SlaEvent]]],
        now: datetime,
    ) -> None:
        """Each ticket's verdicts appended to its ``sla-<ticket>`` stream, all at once."""
        appends = [
            (sla_stream(ticket_id), [self._new_event(ticket_id, event) for event in events])
            for ticket_id, events in announced
            if events
        ]
        if not appends:
            return
        await unit.events.append_at_ends(appends, now)
        for ticket_id, events in announced:
            for event in events:
                log.info(
                    "sla verdict",
                    verdict=event.event_type,
                    rule=event.rule,
                    ticket_id=ticket_id,
                    deadline=event.deadline.isoformat() if event.deadline else None,
                )

    def _new_event(self, ticket_id: str, event: SlaEvent) -> NewEvent:
        return NewEvent(
            type=event.event_type,
            data=event.model_dump(mode="json"),
            schema_version=event.schema_version,
            metadata={"policy_version": self.policy_version},
            event_id=verdict_id(ticket_id, event.rule, event.cycle, event.event_type),
        )

    # --- time ----------------------------------------------------------------------------

    async def fire_due(self, partitions: Collection[int] | None = None) -> int:
        """Announce the warnings and breaches that are due, for timers of ``partitions``
        (those this watcher owns and has read to the end; None: all). Returns how many."""
        if partitions is not None and not partitions:
            return 0
        now = self.clock.now()
        async with self.store.transaction() as unit:
            announced: list[tuple[str, list[SlaEvent]]] = []
            newly_breached: set[str] = set()
            flags: list[tuple[Any, dict[str, Any]]] = []
            for row in await unit.timers.due_timers(now, partitions, self.batch):
                announcements, moved_on = self._fire(row, now)
                flags.append((row, moved_on))
                if announcements:
                    announced.append((row.ticket_id, announcements))
                if any(isinstance(event, SlaBreached) for event in announcements):
                    newly_breached.add(row.ticket_id)
            # What passed together is written together: a few statements for all of
            # them, where each verdict once took six round trips and a burst of
            # deadlines snowballed (a slow round left more due for the next).
            await unit.timers.set_flags_of(flags)
            await unit.timers.refresh_queue_entries(newly_breached)
            await self._announce(unit, announced, now)
        return sum(len(announcements) for _, announcements in announced)

    def _fire(self, row: Any, now: datetime) -> tuple[list[SlaEvent], dict[str, Any]]:
        """The timer's verdict now due, and its flags moved on; the caller writes both."""
        timer = timer_from_row(row)
        announcements: list[SlaEvent] = []
        warned, breached, breached_at = row.warned, row.breached, row.breached_at
        deadline_passed = timer.deadline is not None and timer.deadline + self.grace <= now
        if not breached and deadline_passed:
            breach = verdicts.breached(row.ticket_id, timer, now, self.clocks, self.policy_version)
            announcements.append(breach)
            breached, breached_at, warned = True, breach.breached_at, True
        elif not warned and timer.warn_at is not None and timer.warn_at <= now:
            announcements.append(
                verdicts.warning(row.ticket_id, timer, now, self.clocks, self.policy_version)
            )
            warned = True
        moved_on = {
            "warned": warned,
            "breached": breached,
            "breached_at": breached_at,
            "next_due": verdicts.next_look(timer, warned, breached, self.grace),
            "updated_at": now,
        }
        return announcements, moved_on

    async def seconds_until_due(self, partitions: Iterable[int] | None = None) -> float | None:
        """How long the scheduler may sleep (the store's ``next_due`` index)."""
        owned = None if partitions is None else list(partitions)
        return await self.store.seconds_until_due(self.clock.now(), owned)

    # --- policy change -------------------------------------------------------------------

    async def recompute_open_tickets(self) -> Recomputed:
        """Bring tickets judged under another policy version to this one (replay)."""
        stale = await self.store.tickets_judged_under_another_policy(self.policy_version)
        moved = 0
        now = self.clock.now()
        for ticket_id, partition in stale:
            async with self.store.transaction() as unit:
                moved += await self._reconcile(unit, ticket_id, partition, now)
                await unit.timers.set_policy_version(ticket_id, self.policy_version, now)
        if stale:
            log.info(
                "sla policy changed: open tickets recomputed",
                policy_version=self.policy_version,
                tickets=len(stale),
                deadlines_moved=moved,
            )
        return Recomputed(len(stale), moved)
