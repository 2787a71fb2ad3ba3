"""Paging a group: every channel of the group tried, each retried with backoff; one that
keeps failing is logged and counted and never stops the others."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

import structlog
from prometheus_client import Counter

from aftercare.channels import Channel, Message
from aftercare_sla.adapters.alerts import Alert

log = structlog.get_logger(__name__)

ALERTS_SENT = Counter("aftercare_alerts_sent", "Alerts delivered, by channel type.", ["channel"])
ALERTS_FAILED = Counter(
    "aftercare_alerts_failed", "Alerts a channel could not deliver after retries.", ["channel"]
)


class Pager:
    """Sends an alert to every channel of the groups a rule pages, with retries."""

    def __init__(
        self,
        channels: Mapping[str, Sequence[Channel]],
        *,
        attempts: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
    ) -> None:
        self.channels = channels
        self.attempts = attempts
        self.backoff = backoff
        self.max_backoff = max_backoff

    async def page(self, alert: Alert, groups: Sequence[str]) -> int:
        """Returns how many channels took it."""
        targets: list[Channel] = []
        for group in groups:
            for channel in self.channels.get(group, ()):
                if channel not in targets:
                    targets.append(channel)
        log.warning("sla alert", summary=alert.headline(), groups=list(groups))
        return await self.send(alert.message(), targets)

    async def send(self, message: Message, targets: Sequence[Channel]) -> int:
        """``message`` to every one of ``targets`` at once; how many took it."""
        results = await asyncio.gather(*(self._deliver(channel, message) for channel in targets))
        return sum(results)

    async def _deliver(self, channel: Channel, message: Message) -> bool:
        delay = self.backoff
        for attempt in range(1, self.attempts + 1):
            try:
                await channel.send(message)
            except Exception as error:  # a channel must never take the watcher down
                if attempt == self.attempts:
                    ALERTS_FAILED.labels(channel.kind).inc()
                    log.error(
                        "alert not delivered",
                        channel=channel.kind,
                        message=message.id,
                        error=repr(error),
                    )
                    return False
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff)
            else:
                ALERTS_SENT.labels(channel.kind).inc()
                return True
        return False
