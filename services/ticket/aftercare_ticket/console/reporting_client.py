"""The reporting service's API as the dashboard reads it (the console's key must be a
supervisor's: the indicators are theirs to read) and the notifier's, for the customer
updates of a ticket."""

from __future__ import annotations

from typing import Any

import httpx

from aftercare_ticket.console.service_client import ServiceClient


class ReportingClient(ServiceClient):
    timeout = httpx.Timeout(5.0, connect=0.5)
    name = "reporting"

    async def kpis(self, params: dict[str, str]) -> dict[str, Any] | None:
        answer = await self.call("GET", "/kpis", params=params)
        return None if answer is None else dict(answer.json())

    async def score(self, params: dict[str, str]) -> dict[str, Any] | None:
        answer = await self.call("GET", "/score", params=params)
        return None if answer is None else dict(answer.json())

    async def assessments(self, limit: int = 5) -> list[dict[str, Any]] | None:
        """The latest self-assessments (S §6): title, date, total and level."""
        answer = await self.call("GET", "/assessments", params={"limit": limit})
        return None if answer is None else list(answer.json())

    async def report(self, format_: str, params: dict[str, str]) -> httpx.Response | None:
        return await self.call("GET", f"/reports/kpis.{format_}", params=params)


class NotifierClient(ServiceClient):
    name = "notifier"

    async def updates(self, ticket_id: str) -> list[dict[str, Any]] | None:
        """The customer updates of the ticket, newest first, recipients masked."""
        answer = await self.call("GET", "/notifications", params={"ticket_id": ticket_id})
        return None if answer is None else list(answer.json())
