"""The reporting service as the console's dashboard reads it: over its HTTP API with the
console's key (a supervisor's: the indicators are theirs to read). A page shows what it
could get and says what it could not."""

from __future__ import annotations

from typing import Any

import httpx
import structlog

log = structlog.get_logger(__name__)
TIMEOUT = httpx.Timeout(5.0, connect=0.5)


class ReportingClient:
    def __init__(self, base_url: str, api_key: str | None) -> None:
        self.api_key = api_key
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = httpx.AsyncClient(base_url=base_url, headers=headers, timeout=TIMEOUT)

    async def kpis(self, params: dict[str, str]) -> dict[str, Any] | None:
        answer = await self._get("/kpis", params)
        return None if answer is None else dict(answer.json())

    async def score(self, params: dict[str, str]) -> dict[str, Any] | None:
        answer = await self._get("/score", params)
        return None if answer is None else dict(answer.json())

    async def report(self, format_: str, params: dict[str, str]) -> httpx.Response | None:
        return await self._get(f"/reports/kpis.{format_}", params)

    async def _get(self, path: str, params: dict[str, str]) -> httpx.Response | None:
        if not self.api_key:
            return None
        try:
            answer = await self.http.get(path, params=params)
        except httpx.HTTPError as error:
            log.warning("reporting unreachable", path=path, error=type(error).__name__)
            return None
        if answer.status_code != 200:
            log.warning("reporting refused", path=path, status=answer.status_code)
            return None
        return answer

    async def close(self) -> None:
        await self.http.aclose()
