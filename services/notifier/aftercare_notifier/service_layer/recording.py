"""Recording each update sent as ``ProgressReported`` on the ticket (T-PROGRESS is judged
on it): at once after sending, again with capped backoff while the ticket service is
away, never again once it refuses for good."""

from __future__ import annotations

from datetime import datetime

import httpx
import structlog

from aftercare.clock import Clock
from aftercare_notifier.adapters.ticket_api import Refused, TicketGone, TicketReader
from aftercare_notifier.adapters.unit_of_work import NotifierStore
from aftercare_notifier.service_layer.tuning import NotifierTuning

log = structlog.get_logger(__name__)


class ProgressRecording:
    store: NotifierStore
    clock: Clock
    api: TicketReader
    tuning: NotifierTuning

    async def _finish(self, notification_id: str, **values: object) -> None:
        async with self.store.transaction() as unit:
            await unit.outbox.mark(notification_id, **values)

    async def _record(
        self, notification_id: str, ticket_id: str, subject: str, channel: str, at: datetime
    ) -> bool:
        try:
            await self.api.record_progress(ticket_id, notification_id, subject, channel, at)
        except (Refused, TicketGone) as error:
            # The update went out; the ticket service will never take the record (the
            # ticket is gone, or no command is allowed on it): stop asking.
            log.error("progress cannot be recorded", ticket_id=ticket_id, error=str(error))
            await self._finish(notification_id, record_error=str(error), next_attempt_at=None)
            return False
        except (httpx.HTTPError, OSError) as error:
            await self._record_later(notification_id, ticket_id, error)
            return False
        await self._finish(notification_id, recorded=True, next_attempt_at=None)
        return True

    async def _record_later(self, notification_id: str, ticket_id: str, error: Exception) -> None:
        """A transient failure: the next try waits longer each time, up to the cap."""
        async with self.store.transaction() as unit:
            attempts = await unit.outbox.record_attempts(notification_id)
            delay = min(self.tuning.retry_backoff * 2**attempts, self.tuning.max_backoff)
            await unit.outbox.mark(
                notification_id,
                record_attempts=attempts + 1,
                next_attempt_at=self.clock.now() + delay,
            )
        log.warning(
            "progress not recorded yet",
            ticket_id=ticket_id,
            error=type(error).__name__,
            retry_in_s=delay.total_seconds(),
        )

    async def _record_unrecorded(self) -> int:
        done = 0
        async with self.store.transaction() as unit:
            due = await unit.outbox.unrecorded(self.clock.now(), self.tuning.batch)
        for row in due:
            channel = (row.channels or "email").split(",")[0]
            done += await self._record(
                row.id, row.ticket_id, row.subject or "", channel, row.sent_at
            )
        return done
