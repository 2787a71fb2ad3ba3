"""The event store: append-only streams with optimistic concurrency, one global order."""

from aftercare.eventstore.model import (
    ConcurrencyError,
    EventStore,
    LogCursor,
    NewEvent,
    RecordedEvent,
)
from aftercare.eventstore.sql import (
    SqlEventStore,
    append_at_end,
    append_events,
    lock_stream,
    log_end,
    read_all,
    read_stream,
    with_actual_version,
)

__all__ = [
    "ConcurrencyError",
    "EventStore",
    "LogCursor",
    "NewEvent",
    "RecordedEvent",
    "SqlEventStore",
    "append_at_end",
    "append_events",
    "lock_stream",
    "log_end",
    "read_all",
    "read_stream",
    "with_actual_version",
]
