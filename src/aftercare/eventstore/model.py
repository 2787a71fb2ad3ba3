"""The store's port: what an event is before and after it is recorded, and the contract."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from contextlib import AbstractAsyncContextManager
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


class StoreUnavailable(Exception):
    """The database behind the store cannot be reached now; trying again later may work."""


class ConcurrencyError(Exception):
    """The stream is not at the version the writer decided on (someone else wrote first)."""

    def __init__(self, stream_id: str, expected_version: int, actual_version: int | None) -> None:
        where = "past" if actual_version is None else f"at version {actual_version}, not"
        super().__init__(f"stream {stream_id!r} is {where} {expected_version}")
        self.stream_id = stream_id
        self.expected_version = expected_version
        self.actual_version = actual_version


class StreamSession(Protocol):
    """The store inside one transaction: what is appended commits with everything else
    the caller writes in it (a read model, an idempotency record), or not at all."""

    async def lock(self, stream_id: str) -> None:
        """Writers of ``stream_id`` queue behind this one until its transaction ends."""
        ...

    async def stream_version(self, stream_id: str) -> int: ...

    async def read_stream(
        self,
        stream_id: str,
        *,
        up_to_version: int | None = None,
        up_to_time: datetime | None = None,
        after_version: int = 0,
    ) -> list[RecordedEvent]: ...

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        recorded_at: datetime,
        *,
        verify: bool = True,
    ) -> list[RecordedEvent]:
        """Append if the stream is at ``expected_version`` (0: a new stream), else raise
        ``ConcurrencyError``; ``verify=False`` trusts a version just read in this
        transaction and lets only a concurrent writer of the same version fail."""
        ...

    async def append_at_end(
        self, stream_id: str, events: Sequence[NewEvent], recorded_at: datetime
    ) -> list[RecordedEvent]:
        """Append after whatever the stream holds (streams with a single writer)."""
        ...

    async def append_at_ends(
        self, appends: Sequence[tuple[str, Sequence[NewEvent]]], recorded_at: datetime
    ) -> list[RecordedEvent]:
        """``append_at_end`` for each (stream, events), in one go."""
        ...


class EventStore(Protocol):
    """What the services need from an event store, whichever database is behind it:
    transactions for writers, reads of a stream, and the log in order for followers.
    Only ``ConcurrencyError`` and ``StoreUnavailable`` come out of it, never a driver's
    exception."""

    def transaction(self) -> AbstractAsyncContextManager[StreamSession]:
        """A write transaction: committed when the block ends, rolled back if it raises."""
        ...

    def reading(self) -> AbstractAsyncContextManager[StreamSession]:
        """A read-only view (appending in it is an error)."""
        ...

    async def append(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> list[RecordedEvent]:
        """One-shot append in its own transaction; a conflict names the actual version."""
        ...

    async def read_stream(
        self,
        stream_id: str,
        *,
        up_to_version: int | None = None,
        up_to_time: datetime | None = None,
    ) -> list[RecordedEvent]: ...

    async def stream_version(self, stream_id: str) -> int: ...

    async def read_all(
        self,
        after: LogCursor = LogCursor.START,
        limit: int = 1000,
        types: Collection[str] | None = None,
    ) -> list[RecordedEvent]:
        """Events in log order after ``after``, only as far as nothing can still change."""
        ...

    async def log_end(self) -> LogCursor:
        """The cursor of the last event in log order (the start when the log is empty)."""
        ...

    async def with_actual_version(self, error: ConcurrencyError) -> ConcurrencyError:
        """The same conflict, saying where the stream is now (read after the rollback)."""
        ...
