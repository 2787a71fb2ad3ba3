"""The ticket service as the notifier sees it: read a case and its contact, record updates.

Contact details come from the private ``/contact`` endpoint, never from the topic (P-PII).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import httpx


class TicketGone(Exception):
    """The ticket service says the ticket does not exist (a permanent failure)."""


class Refused(Exception):
    """The ticket service refuses for good (a 4xx other than 404, 408, 409, 425, 429):
    asking again would get the same answer."""

    def __init__(self, status: int, problem: str) -> None:
        super().__init__(f"the ticket service answered {status} {problem}")
        self.status = status


_TRANSIENT = frozenset({408, 409, 425, 429})


class TicketReader(Protocol):
    """What the notifier asks of the ticket service. ``TicketGone`` and ``Refused`` are
    permanent answers; ``httpx.HTTPError`` and ``OSError`` transient ones."""

    async def ticket(self, ticket_id: str) -> dict[str, Any]: ...

    async def contact(self, ticket_id: str) -> dict[str, Any]: ...

    async def record_progress(
        self, ticket_id: str, key: str, message: str, channel: str, occurred_at: datetime
    ) -> None:
        """ProgressReported on the ticket; the key makes a repeat record nothing."""
        ...


class TicketApi:
    def __init__(self, base_url: str, api_key: str, client: httpx.AsyncClient | None = None):
        self.client = client or httpx.AsyncClient(timeout=10)
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {api_key}", "X-Actor": "aftercare-notifier"}

    async def _get(self, path: str) -> dict[str, Any]:
        response = await self.client.get(self.base_url + path, headers=self.headers)
        if response.status_code == 404:
            raise TicketGone(path)
        _refuse_for_good(response)
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        return document

    async def ticket(self, ticket_id: str) -> dict[str, Any]:
        return await self._get(f"/tickets/{ticket_id}")

    async def contact(self, ticket_id: str) -> dict[str, Any]:
        return await self._get(f"/tickets/{ticket_id}/contact")

    async def record_progress(
        self, ticket_id: str, key: str, message: str, channel: str, occurred_at: datetime
    ) -> None:
        """ProgressReported on the ticket; the key makes a repeat record nothing."""
        response = await self.client.post(
            f"{self.base_url}/tickets/{ticket_id}/report-progress",
            headers={**self.headers, "Idempotency-Key": f"notification-{key}"},
            json={
                "message": message[:10_000],
                "channel": channel,
                "report_key": key,
                "occurred_at": occurred_at.isoformat(),
            },
        )
        if response.status_code == 404:
            raise TicketGone(ticket_id)
        _refuse_for_good(response)
        response.raise_for_status()

    async def close(self) -> None:
        await self.client.aclose()


def _refuse_for_good(response: httpx.Response) -> None:
    if 400 <= response.status_code < 500 and response.status_code not in _TRANSIENT:
        raise Refused(response.status_code, _problem_type(response))


def _problem_type(response: httpx.Response) -> str:
    """The problem's type and title, never its detail (which may quote the request)."""
    try:
        document = response.json()
    except ValueError:
        return ""
    if not isinstance(document, dict):
        return ""
    return f"{document.get('type', '')} {document.get('title', '')}".strip()
