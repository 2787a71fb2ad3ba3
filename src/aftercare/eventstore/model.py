"""The store's port: what an event is before and after it is recorded, and the contract."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol
from uuid import UUID, uuid4


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event decided but not yet stored."""

    type: str
    data: dict[str, Any]
    schema_version: int = 1
    metadata: dict[str, Any] = field(default_factory=dict)
    event_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True, slots=True, order=True)
class LogCursor:
    """A place in the log: (writing transaction's id, position); see ``eventstore.sql``."""

    transaction_id: int
    global_position: int

    START: ClassVar[LogCursor]

    @classmethod
    def of(cls, event: RecordedEvent) -> LogCursor:
        return cls(event.transaction_id, event.global_position)


LogCursor.START = LogCursor(0, 0)


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as the store holds it; ``version`` counts from 1 within its stream."""

    global_position: int
    stream_id: str
    version: int
    event_id: UUID
    type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    recorded_at: datetime
    transaction_id: int = 0


class ConcurrencyError(Exception):
    """The stream is not at the version the writer decided on (someone else wrote first)."""

    def __init__(self, stream_id: str, expected_version: int, actual_version: int | None) -> None:
        where = "past" if actual_version is None else f"at version {actual_version}, not"
        super().__init__(f"stream {stream_id!r} is {where} {expected_version}")
        self.stream_id = stream_id
        self.expected_version = expected_version
        self.actual_version = actual_version


class EventStore(Protocol):
    """What the services need from an event store, whichever database is behind it."""

    async def append(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> list[RecordedEvent]:
        """Append atomically if the stream is at ``expected_version`` (0: a new stream)."""
        ...

    async def read_stream(
        self,
        stream_id: str,
        *,
        up_to_version: int | None = None,
        up_to_time: datetime | None = None,
    ) -> list[RecordedEvent]: ...

    async def read_all(
        self,
        after: LogCursor = LogCursor.START,
        limit: int = 1000,
        types: Collection[str] | None = None,
    ) -> list[RecordedEvent]:
        """Events in log order after ``after``; see ``eventstore.sql`` on ordering."""
        ...
