"""The tickets an API process wrote last, kept so its next command skips the read."""

from __future__ import annotations

from aftercare.lru import Lru
from aftercare_ticket.domain.ticket import Ticket


class RecentTickets:
    """Tickets this process wrote last, so the next command can skip reading the stream.

    Only a hint: another process may have written since. A decision on a stale copy
    loses at the append (the unique stream version), and is then made again from the
    store; a caller's ``If-Match`` uses a copy only when the versions agree."""

    def __init__(self, size: int = 10_000) -> None:
        self._tickets: Lru[str, Ticket] = Lru(size)

    def get(self, ticket_id: str, expected_version: int | None) -> Ticket | None:
        ticket = self._tickets.get(ticket_id)
        if ticket is None or expected_version not in (None, ticket.version):
            return None
        return ticket

    def put(self, ticket: Ticket) -> None:
        self._tickets.put(ticket.id, ticket)

    def forget(self, ticket_id: str) -> None:
        self._tickets.pop(ticket_id)
