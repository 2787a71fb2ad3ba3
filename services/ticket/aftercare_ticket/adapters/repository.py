"""Tickets from their streams, and decided events saved with the read model: the same
for every store (the event store port and ``TicketRecords`` are what differ)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import fields as dataclass_fields
from datetime import datetime
from typing import Any, Protocol

import orjson
from pydantic import TypeAdapter

from aftercare.eventstore import NewEvent, RecordedEvent, StreamSession
from aftercare.lru import Lru
from aftercare_ticket.adapters.records import TicketRecords
from aftercare_ticket.domain.events import TicketEvent, decode, encode
from aftercare_ticket.domain.folding import evolve_all
from aftercare_ticket.domain.ticket import Ticket
from aftercare_ticket.domain.values import STORED


def fold(ticket_id: str, recorded: Sequence[RecordedEvent]) -> Ticket | None:
    """The ticket as of the last of ``recorded``; ``None`` when there are none."""
    if not recorded:
        return None
    return fold_onto(Ticket(id=ticket_id), recorded)


class Foldable(Protocol):
    """What folding needs of a stored event (a ``RecordedEvent``, or a row of just these
    columns: a replay reads no more than it folds)."""

    @property
    def type(self) -> str: ...
    @property
    def schema_version(self) -> int: ...
    @property
    def data(self) -> dict[str, Any]: ...
    @property
    def version(self) -> int: ...
    @property
    def recorded_at(self) -> datetime: ...


def fold_onto(ticket: Ticket, recorded: Sequence[Foldable]) -> Ticket:
    """``ticket`` after ``recorded`` (its next events), folded in one copy."""
    if not recorded:
        return ticket
    created_at = ticket.created_at or recorded[0].recorded_at
    return evolve_all(
        ticket,
        (
            (
                decode(event.type, event.schema_version, event.data),
                {
                    "version": event.version,
                    "created_at": created_at,
                    "updated_at": event.recorded_at,
                },
            )
            for event in recorded
        ),
    )


class Snapshots:
    """Folded states of recently read tickets at every ``every``-th version.

    A past state never changes, so a snapshot stays right for ever; only memory bounds
    how many are kept (``tickets`` most recently used). Reading a long ticket, or its
    state as of a past time, then starts from the nearest snapshot instead of event 1."""

    def __init__(self, every: int = 50, tickets: int = 1000) -> None:
        self.every = every
        self._by_ticket: Lru[str, list[Ticket]] = Lru(tickets)

    def best(self, ticket_id: str, as_of: datetime | None) -> Ticket | None:
        """The latest snapshot that already existed at ``as_of`` (any, without it)."""
        for ticket in reversed(self._by_ticket.get(ticket_id) or []):
            if as_of is None or (ticket.updated_at is not None and ticket.updated_at <= as_of):
                return ticket
        return None

    def remember(self, ticket: Ticket) -> bool:
        """Keep ``ticket`` if it is at a snapshot's version; True when it is new here."""
        if ticket.version % self.every:
            return False
        kept = self._by_ticket.get(ticket.id) or []
        if kept and kept[-1].version >= ticket.version:
            return False
        self._by_ticket.put(ticket.id, [*kept, ticket])
        return True


_TICKET_DOCUMENT = TypeAdapter(Ticket)
FOLD_REVISION = 1
"""Raise when what an event changes on a ticket changes: snapshots folded the old way are
then ignored (and taken again) instead of answering for the new code."""
SNAPSHOT_FORMAT = hashlib.sha256(
    f"{FOLD_REVISION}:{[(f.name, str(f.type)) for f in dataclass_fields(Ticket)]}".encode()
).hexdigest()[:16]
"""The shape of a persisted snapshot: the fold's revision and the ticket's fields, so a
release that adds a field never reads a snapshot without it."""


def ticket_document(ticket: Ticket) -> dict[str, Any]:
    document: dict[str, Any] = _TICKET_DOCUMENT.dump_python(ticket, mode="json")
    return document


def ticket_from_document(document: dict[str, Any]) -> Ticket:
    """A persisted snapshot back as a ticket (its values were checked when they came in)."""
    return _TICKET_DOCUMENT.validate_python(document, context=STORED)


class EventTooLarge(Exception):
    def __init__(self, event_type: str, size: int, limit: int) -> None:
        super().__init__(f"a {event_type} event of {size} bytes exceeds {limit} bytes")
        self.event_type = event_type
        self.size = size
        self.limit = limit


def view_row(ticket: Ticket) -> dict[str, Any]:
    assert ticket.requested_at is not None
    assert ticket.created_at is not None
    assert ticket.updated_at is not None
    return {
        "id": ticket.id,
        "version": ticket.version,
        "state": ticket.state.value,
        "kind": ticket.kind.value,
        "channel": ticket.channel.value,
        "priority": ticket.priority.value,
        "urgent": ticket.urgent,
        "customer_ref": ticket.customer_ref,
        "assignee": ticket.assignee,
        "region": ticket.region,
        "subject": ticket.subject,
        "requested_at": ticket.requested_at,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "reopen_count": ticket.reopen_count,
        "summary": {"allowed_commands": ticket.allowed_commands},
    }


def new_events_of(
    decided: Sequence[TicketEvent], metadata: dict[str, Any], max_event_bytes: int | None
) -> list[NewEvent]:
    """The decided events as the store takes them; ``EventTooLarge`` when one's JSON
    exceeds ``max_event_bytes`` (what is recorded must be publishable)."""
    new_events = [
        NewEvent(
            type=event.event_type,
            schema_version=event.schema_version,
            data=encode(event),
            metadata=metadata,
        )
        for event in decided
    ]
    if max_event_bytes is not None:
        for new_event in new_events:
            size = len(orjson.dumps(new_event.data)) + len(orjson.dumps(new_event.metadata))
            if size > max_event_bytes:
                raise EventTooLarge(new_event.type, size, max_event_bytes)
    return new_events


def after_decided(ticket: Ticket, decided: Sequence[TicketEvent], recorded_at: datetime) -> Ticket:
    """The ticket once ``decided`` is stored at its next versions, folded from the events
    this process just made rather than decoded back from their JSON (the same state a
    reader folds from the store: tested)."""
    created = ticket.created_at or recorded_at
    stamped = (
        (event, {"version": version, "created_at": created, "updated_at": recorded_at})
        for version, event in enumerate(decided, start=ticket.version + 1)
    )
    return evolve_all(ticket, stamped)


def fingerprint(*parts: Any) -> str:
    return hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)).hexdigest()


class Tickets:
    """The ticket repository inside one unit of work: folds streams into tickets and
    appends decided events with the read model's row, in the same transaction."""

    def __init__(
        self, events: StreamSession, records: TicketRecords, max_event_bytes: int | None = None
    ) -> None:
        self.events = events
        self.records = records
        self.max_event_bytes = max_event_bytes

    async def load(
        self, ticket_id: str, as_of: datetime | None = None
    ) -> tuple[Ticket | None, list[RecordedEvent]]:
        recorded = await self.events.read_stream(ticket_id, up_to_time=as_of)
        return fold(ticket_id, recorded), recorded

    async def load_from_snapshot(
        self, ticket_id: str, snapshots: Snapshots, as_of: datetime | None = None
    ) -> tuple[Ticket | None, list[Ticket]]:
        """The ticket (as of ``as_of``) from the nearest snapshot, this process's or the
        store's, and the events after it; with the snapshots taken on the way that this
        process did not have (for the store to keep)."""
        base = snapshots.best(ticket_id, as_of)
        if base is None:
            document = await self.records.find_snapshot(ticket_id, SNAPSHOT_FORMAT, as_of)
            if document is not None:
                base = ticket_from_document(document)
                snapshots.remember(base)
        recorded = await self.events.read_stream(
            ticket_id, up_to_time=as_of, after_version=base.version if base else 0
        )
        ticket, taken, start = base, [], 0
        while start < len(recorded):  # one copy per run of events up to a snapshot's version
            current = ticket or Ticket(id=ticket_id)
            end = start + snapshots.every - current.version % snapshots.every
            ticket = fold_onto(current, recorded[start:end])
            if snapshots.remember(ticket):
                taken.append(ticket)
            start = end
        return ticket, taken

    async def keep_snapshots(self, taken: Sequence[Ticket]) -> None:
        for ticket in taken:
            assert ticket.updated_at is not None
            await self.records.keep_snapshot(
                ticket.id,
                ticket.version,
                SNAPSHOT_FORMAT,
                ticket.updated_at,
                ticket_document(ticket),
            )

    async def save(
        self,
        ticket: Ticket,
        decided: Sequence[TicketEvent],
        metadata: dict[str, Any],
        recorded_at: datetime,
    ) -> tuple[Ticket, list[RecordedEvent]]:
        """Append ``decided`` at ``ticket.version`` and refresh the read model; a stale
        version raises ``ConcurrencyError``, an event whose JSON exceeds
        ``max_event_bytes`` raises ``EventTooLarge`` (what is recorded must be publishable)."""
        new_events = new_events_of(decided, metadata, self.max_event_bytes)
        # ``ticket`` was folded from what the store held, so its version is never ahead of
        # the stream: the unique (stream, version) alone catches a writer that got there first.
        recorded = await self.events.append(
            ticket.id, ticket.version, new_events, recorded_at, verify=False
        )
        ticket = after_decided(ticket, decided, recorded_at)
        await self.records.upsert_view(view_row(ticket))
        return ticket, recorded
