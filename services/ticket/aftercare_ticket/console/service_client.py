"""The other services as the console reads them: over their HTTP APIs, like any other
client, with the console's own key (``AFTERCARE_CONSOLE_API_KEY``). A page never waits
long on another service and never fails because of one: an answer that does not come in
time, or comes as an error, is ``None``, and the page says what it could not show."""

from __future__ import annotations

from typing import Any

import httpx
import structlog

log = structlog.get_logger(__name__)


class ServiceClient:
    timeout = httpx.Timeout(2.0, connect=0.5)
    name = "service"

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
            base_url=base_url, headers=headers, timeout=self.timeout, transport=transport
        )

    async def call(
        self, method: str, path: str, *, accept: tuple[int, ...] = (200,), **kwargs: Any
    ) -> httpx.Response | None:
        if not self.api_key:
            return None
        try:
            answer = await self.http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            log.warning("service unreachable", service=self.name, error=type(error).__name__)
            return None
        if answer.status_code not in accept:
            log.warning("service refused", service=self.name, status=answer.status_code)
            return None
        return answer

    async def close(self) -> None:
        await self.http.aclose()
