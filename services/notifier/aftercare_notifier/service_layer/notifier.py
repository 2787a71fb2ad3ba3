"""The notifier: ticket events in, customer updates out, each recorded on the ticket.

Updates are rows in ``notifications`` first (an outbox), written in the consumer's
transaction, so a redelivered event or a restart never queues one twice. A change is
held for a short coalescing window and later changes fold into it: a replayed backlog
gives each customer one update about where the case stands now, not a storm. Events
older than ``max_event_age`` (a first start reading years of history) update the case
but send nothing. A sender claims due rows with a lease, fetches the case and the
contact from the ticket service, renders the customer's language, delivers, and
records ``ProgressReported`` on the ticket (idempotent by the notification id).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import structlog
from prometheus_client import Counter
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from aftercare.clock import Clock
from aftercare.cloudevents import CloudEvent
from aftercare.db import insert_if_absent, seconds_until_due, transaction, upsert
from aftercare.mail import SmtpSettings
from aftercare.redact import redact
from aftercare_notifier.adapters.channels import Update, customer_channels
from aftercare_notifier.adapters.tables import notifications, notifier_cases
from aftercare_notifier.adapters.templates import Templates
from aftercare_notifier.adapters.ticket_api import Refused, TicketApi, TicketGone
from aftercare_notifier.domain.cadence import CHANGE_TEMPLATES, QUIET_STATES, Cadence, CaseView
from aftercare_ticket.contract import event_name

log = structlog.get_logger(__name__)

_NAMESPACE = uuid.UUID("0b7c3f0e-5d1a-4c55-8f7e-2a9d6b4e1c30")

UPDATES = Counter(
    "aftercare_customer_updates",
    "Customer updates by outcome (sent, failed, cancelled) and kind (change, progress).",
    ["outcome", "kind"],
)


@dataclass(frozen=True)
class NotifierTuning:
    coalesce: timedelta = timedelta(seconds=10)
    max_event_age: timedelta = timedelta(hours=24)
    max_attempts: int = 6
    retry_backoff: timedelta = timedelta(seconds=30)
    max_backoff: timedelta = timedelta(minutes=15)
    lease: timedelta = timedelta(minutes=2)
    batch: int = 50


class Notifier:
    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        cadence: Cadence,
        templates: Templates,
        api: TicketApi,
        *,
        smtp: SmtpSettings | None,
        customer_webhooks: Mapping[str, Mapping[str, str]] | None = None,
        http: httpx.AsyncClient | None = None,
        tuning: NotifierTuning | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.cadence = cadence
        self.templates = templates
        self.api = api
        self.smtp = smtp
        self.customer_webhooks = customer_webhooks or {}
        self.http = http or httpx.AsyncClient(timeout=10)
        self.tuning = tuning or NotifierTuning()

    # --- events in ---------------------------------------------------------------------

    async def on_ticket_event(
        self, connection: AsyncConnection, event: CloudEvent, partition: int
    ) -> None:
        name = event_name(event.type)
        if name is None:
            return
        ticket_id, now = event.subject, self.clock.now()
        sequence = event.sequence or 0
        last = (
            await connection.execute(
                select(notifier_cases.c.last_sequence).where(
                    notifier_cases.c.ticket_id == ticket_id
                )
            )
        ).scalar_one_or_none()
        if last is not None and sequence <= last:
            return  # seen before (the relay republished it): nothing changes
        view = (await self._view(connection, ticket_id)).evolve(name, event.time, event.data)
        if name in CHANGE_TEMPLATES and now - event.time <= self.tuning.max_event_age:
            await self._queue_change(connection, ticket_id, CHANGE_TEMPLATES[name], event, now)
        await self._save_view(connection, view, partition, now, sequence=sequence)

    async def _view(self, connection: AsyncConnection, ticket_id: str) -> CaseView:
        row = (
            await connection.execute(
                select(notifier_cases).where(notifier_cases.c.ticket_id == ticket_id)
            )
        ).first()
        if row is None:
            return CaseView(ticket_id)
        return CaseView(
            ticket_id=ticket_id,
            phase=row.phase,
            priority=row.priority,
            urgent=row.urgent,
            language=row.language,
            customer_ref=row.customer_ref,
            last_update_at=row.last_update_at,
            opened_at=row.opened_at,
        )

    async def _save_view(
        self,
        connection: AsyncConnection,
        view: CaseView,
        partition: int | None,
        now: datetime,
        sequence: int | None = None,
    ) -> None:
        row: dict[str, Any] = {
            "ticket_id": view.ticket_id,
            "phase": view.phase,
            "priority": view.priority,
            "urgent": view.urgent,
            "language": view.language,
            "customer_ref": view.customer_ref,
            "opened_at": view.opened_at,
            "last_update_at": view.last_update_at,
            "next_due": view.next_progress_due(self.cadence),
            "updated_at": now,
        }
        if sequence is not None:
            row["last_sequence"] = sequence
        if partition is not None:
            row["partition"] = partition
            row.setdefault("last_sequence", 0)
            await upsert(connection, notifier_cases, row, "ticket_id")
        else:
            await connection.execute(
                update(notifier_cases)
                .where(notifier_cases.c.ticket_id == view.ticket_id)
                .values(**row)
            )

    async def _pending(self, connection: AsyncConnection, ticket_id: str) -> Any:
        """An update queued for the ticket and not yet attempted, if any."""
        return (
            await connection.execute(
                select(notifications).where(
                    and_(
                        notifications.c.ticket_id == ticket_id,
                        notifications.c.status == "pending",
                        notifications.c.attempts == 0,
                    )
                )
            )
        ).first()

    async def _queue_change(
        self,
        connection: AsyncConnection,
        ticket_id: str,
        template: str,
        event: CloudEvent,
        now: datetime,
    ) -> None:
        pending = await self._pending(connection, ticket_id)
        if pending is not None:  # coalesce: one update about the latest change
            await connection.execute(
                update(notifications)
                .where(notifications.c.id == pending.id)
                .values(kind="change", template=template, event=event.data)
            )
            return
        await insert_if_absent(  # a redelivered event finds its update already there
            connection,
            notifications,
            {
                "id": str(uuid.uuid5(_NAMESPACE, f"change/{event.id}")),
                "ticket_id": ticket_id,
                "kind": "change",
                "template": template,
                "trigger_key": f"change:{event.id}",
                "event": event.data,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now + self.tuning.coalesce,
                "recorded": False,
                "created_at": now,
            },
        )

    # --- the cadence -------------------------------------------------------------------

    async def schedule_progress(self, partitions: Collection[int] | None = None) -> int:
        """Queue the routine updates that are due (for cases of ``partitions``)."""
        if partitions is not None and not partitions:
            return 0
        now = self.clock.now()
        query = select(notifier_cases).where(notifier_cases.c.next_due <= now)
        if partitions is not None:
            query = query.where(notifier_cases.c.partition.in_(list(partitions)))
        queued = 0
        async with transaction(self.engine) as connection:
            due = await connection.execute(
                query.order_by(notifier_cases.c.next_due).limit(self.tuning.batch * 10)
            )
            for case in due.all():
                if await self._pending(connection, case.ticket_id) is None:
                    key = f"progress:{case.ticket_id}:{case.next_due.isoformat()}"
                    queued += await insert_if_absent(
                        connection,
                        notifications,
                        {
                            "id": str(uuid.uuid5(_NAMESPACE, key)),
                            "ticket_id": case.ticket_id,
                            "kind": "progress",
                            "template": "progress",
                            "trigger_key": key,
                            "event": {},
                            "status": "pending",
                            "attempts": 0,
                            "next_attempt_at": now,
                            "recorded": False,
                            "created_at": now,
                        },
                    )
                # The next one is owed after this update goes out (the anchor moves).
                await connection.execute(
                    update(notifier_cases)
                    .where(notifier_cases.c.ticket_id == case.ticket_id)
                    .values(next_due=None, updated_at=now)
                )
        return queued

    async def seconds_until_due(self, partitions: Collection[int] | None = None) -> float | None:
        """How long the scheduler may sleep (see ``aftercare.db.seconds_until_due``)."""
        owned = None if partitions is None else list(partitions)
        return await seconds_until_due(self.engine, notifier_cases, self.clock.now(), owned)

    # --- sending -----------------------------------------------------------------------

    async def send_due(self) -> int:
        """Deliver what is due, and record what was delivered; returns how many handled."""
        claimed = await self._claim()
        for row in claimed:
            await self._send(row)
        recorded = await self._record_unrecorded()
        return len(claimed) + recorded

    async def _claim(self) -> list[Any]:
        now = self.clock.now()
        async with transaction(self.engine) as connection:
            query = (
                select(notifications)
                .where(
                    and_(
                        notifications.c.status == "pending",
                        notifications.c.next_attempt_at <= now,
                    )
                )
                .order_by(notifications.c.next_attempt_at)
                .limit(self.tuning.batch)
            )
            if connection.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = list((await connection.execute(query)).all())
            for row in rows:
                await connection.execute(
                    update(notifications)
                    .where(notifications.c.id == row.id)
                    .values(next_attempt_at=now + self.tuning.lease, attempts=row.attempts + 1)
                )
        return rows

    async def _finish(self, notification_id: str, **values: Any) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(
                update(notifications).where(notifications.c.id == notification_id).values(**values)
            )

    async def _send(self, row: Any) -> None:
        now = self.clock.now()
        try:
            ticket = await self.api.ticket(row.ticket_id)
            contact = await self.api.contact(row.ticket_id)
        except TicketGone:
            await self._fail(row, "the ticket service does not know this ticket", permanent=True)
            return
        except Refused as error:
            await self._fail(row, str(error), permanent=True)
            return
        except (httpx.HTTPError, OSError) as error:
            await self._fail(row, f"ticket service unavailable: {error!r}")
            return
        if row.kind == "progress" and ticket["state"] in QUIET_STATES:
            await self._finish(
                row.id,
                status="cancelled",
                next_attempt_at=None,
                last_error=f"no routine update while the ticket is {ticket['state']}",
            )
            UPDATES.labels("cancelled", row.kind).inc()
            return
        channels = customer_channels(
            contact, ticket.get("customer_ref"), self.smtp, self.customer_webhooks, self.http
        )
        if not channels:
            await self._fail(
                row,
                "no channel reaches this customer (no email address, no webhook configured)",
                permanent=True,
            )
            return
        try:
            subject, body = self.templates.render(
                ticket.get("language", "zh-CN"),
                row.template,
                {"ticket": ticket, "contact_name": contact.get("name", ""), "event": row.event},
            )
        except Exception as error:
            reason = redact(f"template {row.template}: {error}", contact.get("name"))
            await self._fail(row, reason, permanent=True)
            return
        update_ = Update(
            notification_id=row.id,
            ticket_id=row.ticket_id,
            customer_ref=ticket.get("customer_ref"),
            template=row.template,
            language=ticket.get("language", "zh-CN"),
            subject=subject,
            body=body,
            ticket_state=ticket["state"],
        )
        delivered, errors = [], []
        known = (contact.get("name"), contact.get("phone"), contact.get("email"))
        for channel in channels:
            try:
                await channel.deliver(update_)
            except Exception as error:
                errors.append(redact(f"{channel.name}: {error!r}", *known))
            else:
                delivered.append(channel)
        if not delivered:
            await self._fail(row, "; ".join(errors))
            return
        async with transaction(self.engine) as connection:
            await connection.execute(
                update(notifications)
                .where(notifications.c.id == row.id)
                .values(
                    status="sent",
                    sent_at=now,
                    next_attempt_at=None,
                    channels=",".join(c.name for c in delivered),
                    recipients=", ".join(c.recipient for c in delivered),
                    subject=subject,
                    language=update_.language,
                    last_error="; ".join(errors) or None,
                )
            )
            view = (await self._view(connection, row.ticket_id)).updated(now)
            await self._save_view(connection, view, None, now)
        UPDATES.labels("sent", row.kind).inc()
        log.info(
            "customer updated",
            ticket_id=row.ticket_id,
            template=row.template,
            channels=[c.name for c in delivered],
        )
        await self._record(row.id, row.ticket_id, subject, delivered[0].name, now)

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
        async with self.engine.begin() as connection:
            attempts = (
                await connection.execute(
                    select(notifications.c.record_attempts).where(
                        notifications.c.id == notification_id
                    )
                )
            ).scalar_one()
            delay = min(self.tuning.retry_backoff * 2**attempts, self.tuning.max_backoff)
            await connection.execute(
                update(notifications)
                .where(notifications.c.id == notification_id)
                .values(record_attempts=attempts + 1, next_attempt_at=self.clock.now() + delay)
            )
        log.warning(
            "progress not recorded yet",
            ticket_id=ticket_id,
            error=type(error).__name__,
            retry_in_s=delay.total_seconds(),
        )

    async def _record_unrecorded(self) -> int:
        now = self.clock.now()
        async with self.engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(notifications)
                    .where(
                        and_(
                            notifications.c.status == "sent",
                            notifications.c.recorded.is_(False),
                            notifications.c.record_error.is_(None),
                            or_(
                                notifications.c.next_attempt_at.is_(None),
                                notifications.c.next_attempt_at <= now,
                            ),
                        )
                    )
                    .limit(self.tuning.batch)
                )
            ).all()
        done = 0
        for row in rows:
            channel = (row.channels or "email").split(",")[0]
            done += await self._record(
                row.id, row.ticket_id, row.subject or "", channel, row.sent_at
            )
        return done

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
        async with transaction(self.engine) as connection:
            view = await self._view(connection, ticket_id)
            due = None
            if view.phase == "open":
                due = now + self.cadence.interval(view.priority, view.urgent)
            await connection.execute(
                update(notifier_cases)
                .where(notifier_cases.c.ticket_id == ticket_id)
                .values(next_due=due, updated_at=now)
            )

    async def run_sender(self, idle_wait: float = 0.5) -> None:
        """Send for ever; database and network failures wait and try again."""
        while True:
            try:
                handled = await self.send_due()
            except (OSError, httpx.HTTPError, DBAPIError) as error:
                log.warning("sender cannot work; will retry", error=repr(error))
                handled = 0
            if not handled:
                await asyncio.sleep(idle_wait)
