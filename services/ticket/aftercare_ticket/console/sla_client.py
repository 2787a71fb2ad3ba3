"""The SLA watcher as the console reads it: over its HTTP API, like any other client, with
a key of the console's own. The console shows tickets without their clocks (and says so)
when the watcher cannot answer in time: a page never waits long on another service."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
import structlog

log = structlog.get_logger(__name__)
TIMEOUT = httpx.Timeout(2.0, connect=0.5)


class SlaClient:
    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.api_key = api_key
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = httpx.AsyncClient(
            base_url=base_url, headers=headers, timeout=TIMEOUT, transport=transport
        )

    async def ticket_clocks(self, ticket_id: str) -> list[dict[str, Any]] | None:
        """The ticket's clocks; [] when the watcher has none; None when it cannot say."""
        answer = await self._call("GET", f"/sla/tickets/{ticket_id}")
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
        answer = await self._call("POST", "/sla/queue", json=body)
        if answer is None or answer.status_code != 200:
            return None
        found: dict[str, Any] = answer.json()
        return found

    async def open_alerts(self, ticket_id: str) -> list[dict[str, Any]] | None:
        answer = await self._call("GET", "/alerts", params={"state": "open", "ticket": ticket_id})
        if answer is None or answer.status_code != 200:
            return None
        alerts: list[dict[str, Any]] = answer.json()
        return alerts

    async def open_alert_count(self) -> int | None:
        answer = await self._call("GET", "/alerts", params={"state": "open", "limit": 1000})
        if answer is None or answer.status_code != 200:
            return None
        return len(answer.json())

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response | None:
        if not self.api_key:
            return None
        try:
            answer = await self.http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            log.warning(
                "sla watcher unreachable", path=path.split("/")[2], error=type(error).__name__
            )
            return None
        if answer.status_code >= 500 or answer.status_code in (401, 403):
            log.warning("sla watcher refused", status=answer.status_code)
            return None
        return answer

    async def close(self) -> None:
        await self.http.aclose()
