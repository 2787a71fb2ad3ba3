"""Sending what is due: a sender claims due rows with a lease, fetches the case and the
contact from the ticket service, renders the customer's language, delivers on every
channel the customer has, and records ``ProgressReported`` on the ticket (idempotent by
the notification id); a failure is retried, then given up without silencing the case."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import httpx
import structlog
from prometheus_client import Counter

from aftercare.channels import Channel
from aftercare.customer_links import StatusLinks, SurveyLinks
from aftercare.db import DATABASE_ERRORS
from aftercare.eventstore import StoreUnavailable
from aftercare.redact import redact
from aftercare.shutdown import finish_in_hand
from aftercare_notifier.adapters.channels import ChannelDirectory, Update, deliver_all
from aftercare_notifier.adapters.templates import Templates
from aftercare_notifier.adapters.ticket_api import Refused, TicketGone
from aftercare_notifier.adapters.unit_of_work import NotifierUnitOfWork
from aftercare_notifier.domain.cadence import QUIET_STATES, Cadence, CaseView
from aftercare_notifier.service_layer.recording import ProgressRecording

log = structlog.get_logger(__name__)

UPDATES = Counter(
    "aftercare_customer_updates",
    "Customer updates by outcome (sent, failed, cancelled) and kind (change, progress).",
    ["outcome", "kind"],
)


class Sending(ProgressRecording):
    cadence: Cadence
    templates: Templates
    channels: ChannelDirectory
    surveys: SurveyLinks | None
    status_links: StatusLinks | None

    async def send_due(self) -> int:
        """Deliver what is due, and record what was delivered; returns how many handled."""
        claimed = await self._claim()
        for index, row in enumerate(claimed):
            try:
                # a message on its way is delivered and marked, even when stopping
                await finish_in_hand(self._send(row))
            except asyncio.CancelledError:
                await self._release(claimed[index + 1 :])
                raise
        recorded = await self._record_unrecorded()
        return len(claimed) + recorded

    async def _claim(self) -> list[Any]:
        async with self.store.transaction() as unit:
            return await unit.outbox.claim_due(
                self.clock.now(), self.tuning.lease, self.tuning.batch
            )

    async def _release(self, rows: list[Any]) -> None:
        """Give back what this sender claimed but will not send (it is stopping): another
        sender takes it now rather than when the lease ends."""
        if rows:
            async with self.store.transaction() as unit:
                await unit.outbox.release([row.id for row in rows], self.clock.now())

    async def _send(self, row: Any) -> None:
        """One claimed update: read the case, render it, deliver it, mark it, record it."""
        case = await self._case_of(row)
        if case is None:
            return
        ticket, contact = case
        if row.kind == "progress" and ticket["state"] in QUIET_STATES:
            reason = f"no routine update while the ticket is {ticket['state']}"
            await self._finish(row.id, status="cancelled", next_attempt_at=None, last_error=reason)
            UPDATES.labels("cancelled", row.kind).inc()
            return
        prepared = await self._prepare(row, ticket, contact)
        if prepared is None:
            return
        channels, update_ = prepared
        # The update counts from when it was handed to the channels: a slow server must
        # not move the cadence's anchor later than the customer was told (T-PROGRESS).
        now = self.clock.now()
        delivered, errors = await deliver_all(channels, update_, contact)
        if not delivered:
            await self._fail(row, "; ".join(errors))
            return
        await self._mark_sent(row, update_, delivered, errors, now)
        await self._record(row.id, row.ticket_id, update_.subject, delivered[0].kind, now)

    async def _case_of(self, row: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The ticket and its contact from the ticket service; None (and the row failed or
        put back) when they cannot be had."""
        try:
            return await self.api.ticket(row.ticket_id), await self.api.contact(row.ticket_id)
        except TicketGone:
            await self._fail(row, "the ticket service does not know this ticket", permanent=True)
        except Refused as error:
            await self._fail(row, str(error), permanent=True)
        except (httpx.HTTPError, OSError) as error:
            await self._fail(row, f"ticket service unavailable: {error!r}")
        return None

    async def _prepare(
        self, row: Any, ticket: dict[str, Any], contact: dict[str, Any]
    ) -> tuple[list[Channel], Update] | None:
        """The channels that reach this customer and the rendered update; None (and the
        row failed for good) when there is no channel or the template fails."""
        channels = self.channels.for_customer(contact, ticket.get("customer_ref"))
        if not channels:
            reason = "no channel reaches this customer (no email address, no webhook configured)"
            await self._fail(row, reason, permanent=True)
            return None
        language = ticket.get("language", "zh-CN")
        try:
            subject, body = self.templates.render(
                language,
                row.template,
                {
                    "ticket": ticket,
                    "contact_name": contact.get("name", ""),
                    "event": row.event,
                    "survey_link": self._survey_link(row, ticket, language),
                    "status_link": self._status_link(row, language),
                },
            )
        except Exception as error:
            reason = redact(f"template {row.template}: {error}", contact.get("name"))
            await self._fail(row, reason, permanent=True)
            return None
        update_ = Update(
            notification_id=row.id,
            ticket_id=row.ticket_id,
            customer_ref=ticket.get("customer_ref"),
            template=row.template,
            language=language,
            subject=subject,
            body=body,
            ticket_state=ticket["state"],
        )
        return channels, update_

    def _status_link(self, row: Any, language: str) -> str | None:
        """Every update says where the customer can follow the request."""
        if self.status_links is None:
            return None
        return self.status_links.for_ticket(row.ticket_id, language)

    def _survey_link(self, row: Any, ticket: dict[str, Any], language: str) -> str | None:
        """Q §七: the closing message asks for the customer's rating."""
        if self.surveys is None or row.template != "closed" or ticket.get("state") != "closed":
            return None
        return self.surveys.for_ticket(row.ticket_id, language)

    async def _mark_sent(
        self,
        row: Any,
        update_: Update,
        delivered: list[Channel],
        errors: list[str],
        now: datetime,
    ) -> None:
        """Sent, and the case's cadence restarts from now, in one transaction."""
        async with self.store.transaction() as unit:
            await unit.outbox.mark(
                row.id,
                status="sent",
                sent_at=now,
                next_attempt_at=None,
                channels=",".join(c.kind for c in delivered),
                recipients=", ".join(c.recipient for c in delivered),
                subject=update_.subject,
                language=update_.language,
                last_error="; ".join(errors) or None,
            )
            view = (await unit.cases.load_view(row.ticket_id)).updated(now)
            await unit.cases.save_view(view, await self._owed_next(unit, view), now)
        UPDATES.labels("sent", row.kind).inc()
        log.info(
            "customer updated",
            ticket_id=row.ticket_id,
            template=row.template,
            channels=[c.kind for c in delivered],
        )

    async def _owed_next(self, unit: NotifierUnitOfWork, view: CaseView) -> datetime | None:
        """When the case's next routine update is owed, seen from inside ``unit``: not
        while another update is queued or on its way (its own delivery, or giving it up,
        arms the cadence again)."""
        queued = view.phase == "open" and await unit.outbox.holds_update_for(view.ticket_id)
        return view.next_progress_due(self.cadence, update_queued=queued)

    async def _fail(self, row: Any, reason: str, *, permanent: bool = False) -> None:
        reason = redact(reason)
        attempts = row.attempts + 1
        if permanent or attempts >= self.tuning.max_attempts:
            await self._finish(row.id, status="failed", next_attempt_at=None, last_error=reason)
            await self._try_again_next_cadence(row.ticket_id)
            UPDATES.labels("failed", row.kind).inc()
            log.error("customer update failed", ticket_id=row.ticket_id, reason=reason)
            return
        delay = min(self.tuning.retry_backoff * 2 ** (attempts - 1), self.tuning.max_backoff)
        await self._finish(row.id, next_attempt_at=self.clock.now() + delay, last_error=reason)
        log.warning("customer update will be retried", ticket_id=row.ticket_id, reason=reason)

    async def _try_again_next_cadence(self, ticket_id: str) -> None:
        """A failed update must not silence the case: the cadence goes on from now."""
        now = self.clock.now()
        async with self.store.transaction() as unit:
            # Owed as if an update had gone out now (the view itself is not saved).
            view = (await unit.cases.load_view(ticket_id)).updated(now)
            await unit.cases.set_next_due(ticket_id, await self._owed_next(unit, view), now)

    async def run_sender(self, idle_wait: float = 0.5) -> None:
        """Send for ever; database and network failures wait and try again."""
        failures: tuple[type[BaseException], ...] = (
            OSError,
            httpx.HTTPError,
            StoreUnavailable,
            *DATABASE_ERRORS,
        )
        while True:
            try:
                handled = await self.send_due()
            except failures as error:
                log.warning("sender cannot work; will retry", error=repr(error))
                handled = 0
            if not handled:
                await asyncio.sleep(idle_wait)
