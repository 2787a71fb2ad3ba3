"""The event store: append-only streams with optimistic concurrency, one global order."""

from aftercare.eventstore.model import (
    ConcurrencyError,
    EventStore,
    NewEvent,
    RecordedEvent,
)
from aftercare.eventstore.sql import (
    SqlEventStore,
    append_at_end,
    append_events,
    lock_appends,
    read_stream,
)

__all__ = [
    "ConcurrencyError",
    "EventStore",
    "NewEvent",
    "RecordedEvent",
    "SqlEventStore",
    "append_at_end",
    "append_events",
    "lock_appends",
    "read_stream",
]
