"""The event store: append-only streams with optimistic concurrency, one global order."""

from aftercare.eventstore.memory import MemoryEventStore
from aftercare.eventstore.model import (
    ConcurrencyError,
    EventStore,
    LogCursor,
    NewEvent,
    RecordedEvent,
    StoreUnavailable,
    StreamSession,
)
from aftercare.eventstore.sql import (
    append_at_end,
    append_at_ends,
    append_events,
    lock_stream,
    log_end,
    read_all,
    read_stream,
)
from aftercare.eventstore.sql_store import SqlEventStore, SqlStreamSession

__all__ = [
    "ConcurrencyError",
    "EventStore",
    "LogCursor",
    "MemoryEventStore",
    "NewEvent",
    "RecordedEvent",
    "SqlEventStore",
    "SqlStreamSession",
    "StoreUnavailable",
    "StreamSession",
    "append_at_end",
    "append_at_ends",
    "append_events",
    "lock_stream",
    "log_end",
    "read_all",
    "read_stream",
]
