"""The SLA watcher's API as the console uses it: a ticket's clocks and alerts, the queue
in deadline order, and acknowledging an alert in the signed-in person's name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aftercare_ticket.console.service_client import ServiceClient


class SlaClient(ServiceClient):
    name = "sla-watcher"

    async def ticket_clocks(self, ticket_id: str) -> list[dict[str, Any]] | None:
        """The ticket's clocks; [] when the watcher has none; None when it cannot say."""
        answer = await self.call("GET", f"/sla/tickets/{ticket_id}", accept=(200, 404))
        if answer is None:
            return None
        if answer.status_code == 404:
            return []
        targets: list[dict[str, Any]] = answer.json().get("targets", [])
        return targets

    async def queue(
        self, ticket_ids: Sequence[str] | None, *, breached_only: bool, limit: int, offset: int
    ) -> dict[str, Any] | None:
        body = {
            "tickets": list(ticket_ids) if ticket_ids is not None else None,
            "breached_only": breached_only,
            "limit": limit,
            "offset": offset,
        }
        answer = await self.call("POST", "/sla/queue", json=body)
        return None if answer is None else dict(answer.json())

    async def open_alerts(self, ticket_id: str) -> list[dict[str, Any]] | None:
        params = {"state": "open", "ticket": ticket_id}
        answer = await self.call("GET", "/alerts", params=params)
        return None if answer is None else list(answer.json())

    async def open_alert_count(self) -> int | None:
        answer = await self.call("GET", "/alerts", params={"state": "open", "limit": 1000})
        return None if answer is None else len(answer.json())

    async def acknowledge(self, alert_id: str, actor: str) -> bool:
        """Acknowledge in the name of ``actor`` (the signed-in key), recorded as such."""
        answer = await self.call(
            "POST", f"/alerts/{alert_id}/acknowledge", headers={"X-Actor": actor}
        )
        return answer is not None
