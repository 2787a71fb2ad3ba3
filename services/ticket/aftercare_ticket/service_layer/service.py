"""Use cases of the ticket service: each loads, decides and appends in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from aftercare.clock import Clock
from aftercare.eventstore import ConcurrencyError, RecordedEvent, StoreUnavailable
from aftercare_ticket.adapters import repository
from aftercare_ticket.adapters.unit_of_work import (
    DecidedWrite,
    DuplicateRequest,
    TicketStore,
    TicketUnitOfWork,
)
from aftercare_ticket.domain.commands import Command, RaiseRequest
from aftercare_ticket.domain.decide import decide, raise_request
from aftercare_ticket.domain.decision import Context
from aftercare_ticket.domain.events import TicketEvent
from aftercare_ticket.domain.rules import Policy
from aftercare_ticket.domain.ticket import Ticket
from aftercare_ticket.service_layer.cursors import decode_cursor, encode_cursor
from aftercare_ticket.service_layer.recent import RecentTickets

log = structlog.get_logger(__name__)

Decision = Callable[
    [TicketUnitOfWork | None, Context, bool], Awaitable[tuple[Ticket, list[TicketEvent]] | None]
]
"""The ticket decided on and the events decided for it. Asked first without a unit of
work, a decision that needs to read the store answers None, and is asked again inside
the write transaction, where it must decide; the flag asks for the ticket fresh from
the store (after a lost race)."""


class TicketNotFound(Exception):
    def __init__(self, ticket_id: str, as_of: datetime | None = None) -> None:
        when = f" as of {as_of.isoformat()}" if as_of else ""
        super().__init__(f"no ticket {ticket_id}{when}")
        self.ticket_id = ticket_id
        self.as_of = as_of


class IdempotencyKeyReused(Exception):
    """The same Idempotency-Key came with a different request."""

    def __init__(self, key: str) -> None:
        super().__init__(f"Idempotency-Key {key!r} was used for a different request")
        self.key = key


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asks, for the audit trail (F-9): recorded in every event's metadata. ``key`` is
    the name of the API key that authenticated the request (never its secret); ``actor``
    is the person the caller says is acting (``X-Actor``), or the key's name."""

    actor: str
    role: str
    request_id: str
    correlation_id: str
    key: str | None = None

    def metadata(self, causation_id: str | None = None) -> dict[str, Any]:
        return {
            "actor": self.actor,
            "key": self.key or self.actor,
            "role": self.role,
            "request_id": self.request_id,
            "correlation_id": self.correlation_id,
            "causation_id": causation_id or self.request_id,
        }


@dataclass(frozen=True, slots=True)
class Outcome:
    ticket: Ticket
    events: list[RecordedEvent]
    replayed: bool = False
    """True when an Idempotency-Key matched an earlier request and nothing was written."""


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


class TicketService:
    """The ticket's use cases over a ``TicketStore`` (the database's, or one in memory)."""

    def __init__(self, store: TicketStore, clock: Clock, policy: Policy) -> None:
        self.store = store
        self.clock = clock
        self.policy = policy
        self.recent = RecentTickets()
        self.snapshots = repository.Snapshots()

    def _context(self) -> Context:
        return Context(now=self.clock.now(), policy=self.policy)

    async def raise_request(
        self, request: RaiseRequest, caller: Caller, idempotency_key: str | None = None
    ) -> Outcome:
        async def decision(
            _: TicketUnitOfWork | None, context: Context, fresh: bool
        ) -> tuple[Ticket, list[TicketEvent]]:
            ticket = Ticket(id=str(uuid.uuid4()))
            return ticket, [raise_request(ticket.id, request, context)]

        print_ = (
            repository.fingerprint("raise", request.model_dump(mode="json"))
            if idempotency_key
            else ""  # only a request with a key is compared with an earlier one
        )
        return await self._write(decision, caller, idempotency_key, print_)

    async def execute(
        self,
        ticket_id: str,
        command: Command,
        caller: Caller,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Run ``command`` under the ticket's lock, so writers of one ticket queue rather
        than race: each decides on the state the one before it committed. Without an
        expected version the caller did not ask to decide on a particular state, so a
        decision made on a stale cached copy (another process wrote) is made again from
        the store; with one, a stale version is a conflict (409)."""

        async def decision(
            unit: TicketUnitOfWork | None, context: Context, fresh: bool
        ) -> tuple[Ticket, list[TicketEvent]] | None:
            ticket = None if fresh else self.recent.get(ticket_id, expected_version)
            if ticket is None:
                if unit is None:
                    return None
                ticket, _ = await unit.tickets.load(ticket_id)
            if ticket is None:
                raise TicketNotFound(ticket_id)
            if expected_version is not None and expected_version != ticket.version:
                raise ConcurrencyError(ticket_id, expected_version, ticket.version)
            return ticket, decide(ticket, command, context)

        print_ = (
            repository.fingerprint(ticket_id, command.name, command.model_dump(mode="json"))
            if idempotency_key
            else ""
        )
        return await self._write(
            decision,
            caller,
            idempotency_key,
            print_,
            stream=ticket_id,
            retry=expected_version is None,
        )

    async def _write(
        self,
        decision: Decision,
        caller: Caller,
        idempotency_key: str | None,
        print_: str,
        *,
        stream: str | None = None,
        retry: bool = False,
    ) -> Outcome:
        """Decide and append atomically, with the idempotency record.

        A repeated key answers from the record. Two requests racing with one new key both
        decide; the record's primary key lets one commit, and the other then answers from
        it. Every writer of ``stream`` holds its lock from before the read to the commit
        (T-* clocks and F-9 need one history, not a retry storm): a version race can then
        only be lost to a stale cached copy, and with ``retry`` it is decided again from
        the store, where it cannot lose twice. A decision that needs nothing read (a new
        ticket, a copy this process wrote last) is stored in one step (``commit``): that
        step takes the same lock before it writes, so it never overtakes a writer that
        holds it."""
        for attempt in range(1, 4):
            if idempotency_key:
                earlier = await self._replay(idempotency_key, print_)
                if earlier:
                    return earlier
            try:
                context = self._context()
                made = await decision(None, context, attempt > 1)
                if made is not None and made[1]:
                    key = (idempotency_key, print_) if idempotency_key else None
                    write = DecidedWrite(*made, caller.metadata(), context.now, key)
                    ticket, recorded = await self.store.commit(write)
                else:
                    ticket, recorded = await self._in_transaction(
                        decision, caller, idempotency_key, print_, stream, attempt > 1
                    )
                self.recent.put(ticket)  # committed
                return Outcome(ticket, recorded)
            except ConcurrencyError as error:
                self.recent.forget(error.stream_id)
                if not retry or attempt > 1:
                    raise await self.store.with_actual_version(error) from error
            except DuplicateRequest:
                if not idempotency_key or attempt > 2:
                    raise
        raise RuntimeError("a request neither committed nor found its idempotency record")

    async def _in_transaction(
        self,
        decision: Decision,
        caller: Caller,
        idempotency_key: str | None,
        print_: str,
        stream: str | None,
        fresh: bool,
    ) -> tuple[Ticket, list[RecordedEvent]]:
        """The decision made and stored inside one write transaction, under the lock."""
        async with self.store.transaction() as unit:
            if stream is not None:
                await unit.events.lock(stream)
            context = self._context()
            made = await decision(unit, context, fresh)
            assert made is not None, "a decision with the store at hand decides"
            ticket, decided = made
            recorded: list[RecordedEvent] = []
            if decided:
                metadata = caller.metadata()
                ticket, recorded = await unit.tickets.save(ticket, decided, metadata, context.now)
            if idempotency_key:
                await unit.records.remember_idempotent(
                    idempotency_key, print_, ticket.id, context.now
                )
        return ticket, recorded

    async def _replay(self, key: str, print_: str) -> Outcome | None:
        """The earlier answer to a repeated request; the key's own body must match."""
        async with self.store.reading() as unit:
            earlier = await unit.records.find_idempotent(key)
            if earlier is None:
                return None
            recorded_print, ticket_id = earlier
            if recorded_print != print_:
                raise IdempotencyKeyReused(key)
            ticket, _ = await unit.tickets.load(ticket_id)
        assert ticket is not None
        return Outcome(ticket, [], replayed=True)

    async def get(self, ticket_id: str, as_of: datetime | None = None) -> Ticket:
        async with self.store.reading() as unit:
            ticket, taken = await unit.tickets.load_from_snapshot(ticket_id, self.snapshots, as_of)
        if taken:
            await self._keep_snapshots(taken)
        if ticket is None:
            raise TicketNotFound(ticket_id, as_of)
        return ticket

    async def _keep_snapshots(self, taken: list[Ticket]) -> None:
        """Persist snapshots this read took, so other and later processes start from
        them; a read never fails for it (the next read that folds them tries again)."""
        try:
            async with self.store.transaction() as unit:
                await unit.tickets.keep_snapshots(taken)
        except StoreUnavailable:
            log.warning("ticket_snapshots_not_kept", ticket=taken[0].id, count=len(taken))

    async def history(self, ticket_id: str) -> list[RecordedEvent]:
        async with self.store.reading() as unit:
            recorded = await unit.events.read_stream(ticket_id)
        if not recorded:
            raise TicketNotFound(ticket_id)
        return recorded

    async def list(self, filters: dict[str, Any], cursor: str | None, limit: int) -> Page:
        after = decode_cursor(cursor) if cursor else None
        async with self.store.reading() as unit:
            rows = await unit.records.list_views(filters, after, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1]["created_at"], rows[-1]["id"]) if more else None
        return Page(rows, next_cursor)
