"""The notifier: ticket events in, customer updates out, each recorded on the ticket.

Updates are rows in ``notifications`` first (an outbox), written in the consumer's
transaction, so a redelivered event or a restart never queues one twice. A change is
held for a short coalescing window and later changes fold into it: a replayed backlog
gives each customer one update about where the case stands now, not a storm. Events
older than ``max_event_age`` (a first start reading years of history) update the case
but send nothing. ``sending.Sending`` then claims due rows, delivers them and records
``ProgressReported`` on the ticket.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import structlog

from aftercare.clock import Clock
from aftercare.cloudevents import CloudEvent
from aftercare.customer_links import StatusLinks, SurveyLinks
from aftercare_notifier.adapters.channels import ChannelDirectory
from aftercare_notifier.adapters.templates import Templates
from aftercare_notifier.adapters.ticket_api import TicketReader
from aftercare_notifier.adapters.unit_of_work import NotifierStore, NotifierUnitOfWork
from aftercare_notifier.domain.cadence import CHANGE_TEMPLATES, Cadence
from aftercare_notifier.service_layer.sending import Sending
from aftercare_notifier.service_layer.tuning import NotifierTuning
from aftercare_ticket.contract import event_name

log = structlog.get_logger(__name__)


class Notifier(Sending):
    def __init__(
        self,
        store: NotifierStore,
        clock: Clock,
        cadence: Cadence,
        templates: Templates,
        api: TicketReader,
        channels: ChannelDirectory,
        *,
        tuning: NotifierTuning | None = None,
        surveys: SurveyLinks | None = None,
        status_links: StatusLinks | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.cadence = cadence
        self.templates = templates
        self.api = api
        self.channels = channels
        self.surveys = surveys
        self.status_links = status_links
        self.tuning = tuning or NotifierTuning()

    # --- events in ---------------------------------------------------------------------

    async def on_ticket_event(
        self, unit: NotifierUnitOfWork, event: CloudEvent, partition: int
    ) -> None:
        name = event_name(event.type)
        if name is None:
            return
        ticket_id, now, sequence = event.subject, self.clock.now(), event.sequence or 0
        last = await unit.cases.last_sequence(ticket_id)
        if last is not None and sequence <= last:
            return  # seen before (the relay republished it): nothing changes
        view = (await unit.cases.load_view(ticket_id)).evolve(name, event.time, event.data)
        if name in CHANGE_TEMPLATES and now - event.time <= self.tuning.max_event_age:
            await self._queue_change(unit, ticket_id, CHANGE_TEMPLATES[name], event, now)
        next_due = await self._owed_next(unit, view)
        await unit.cases.save_view(view, next_due, now, partition=partition, sequence=sequence)

    async def _queue_change(
        self,
        unit: NotifierUnitOfWork,
        ticket_id: str,
        template: str,
        event: CloudEvent,
        now: datetime,
    ) -> None:
        pending = await unit.outbox.untried(ticket_id)
        if pending is not None:  # coalesce: one update about the latest change
            await unit.outbox.fold_into(pending.id, template, event.data)
            return
        await unit.outbox.queue(  # a redelivered event finds its update already there
            id_seed=f"change/{event.id}",
            trigger_key=f"change:{event.id}",
            ticket_id=ticket_id,
            kind="change",
            template=template,
            event=event.data,
            send_at=now + self.tuning.coalesce,
            now=now,
        )

    # --- the cadence -------------------------------------------------------------------

    async def schedule_progress(self, partitions: Collection[int] | None = None) -> int:
        """Queue the routine updates that are due (for cases of ``partitions``)."""
        if partitions is not None and not partitions:
            return 0
        now, queued = self.clock.now(), 0
        async with self.store.transaction() as unit:
            for case in await unit.cases.due_cases(now, partitions, self.tuning.batch * 10):
                if await unit.outbox.untried(case.ticket_id) is None:
                    key = f"progress:{case.ticket_id}:{case.next_due.isoformat()}"
                    queued += await unit.outbox.queue(
                        id_seed=key,
                        trigger_key=key,
                        ticket_id=case.ticket_id,
                        kind="progress",
                        template="progress",
                        event={},
                        send_at=now,
                        now=now,
                    )
                # The next one is owed after this update goes out (the anchor moves).
                await unit.cases.set_next_due(case.ticket_id, None, now)
        return queued

    async def seconds_until_due(self, partitions: Collection[int] | None = None) -> float | None:
        """How long the scheduler may sleep (the store's ``next_due`` index)."""
        owned = None if partitions is None else list(partitions)
        return await self.store.seconds_until_due(self.clock.now(), owned)
