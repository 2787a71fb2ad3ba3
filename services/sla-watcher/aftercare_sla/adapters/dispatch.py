"""Pages on-call for each warning and breach, following the event log like the relay;
for the paging groups with an escalation policy, it delivers the alerts' steps and
notices instead (``oncall_pages``, within the page limit), and those groups get no page
per verdict.

Alerts are driven from the watcher's own committed verdicts (not from Kafka), so paging
goes on while the broker is away. Delivery is at-least-once: a crash between sending
and saving the checkpoint pages again, which beats not paging.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import structlog
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.clock import Clock
from aftercare.db import DATABASE_ERRORS
from aftercare.eventstore import LogCursor, RecordedEvent, SqlEventStore, StoreUnavailable
from aftercare.follower import LogFollower, save_checkpoint, saved_or_log_end
from aftercare_sla.adapters.alert_store import SqlAlertStore, decoded
from aftercare_sla.adapters.alerts import alert_from
from aftercare_sla.adapters.oncall_pages import DELIVERED, OnCallPager, Step
from aftercare_sla.adapters.pager import Pager
from aftercare_sla.domain.alerting import OnCallAlert, fold

log = structlog.get_logger(__name__)

VERDICTS_PAGED = frozenset({"SlaWarning", "SlaBreached"})
VERDICTS = Counter(
    "aftercare_sla_verdicts",
    "SLA warnings and breaches recorded, by verdict and rule (counted once, by the pager's "
    "leader as it reads them from the log; a crash may count the one in hand again).",
    ["verdict", "rule"],
)
PAGED = VERDICTS_PAGED | DELIVERED


class AlertDispatcher(LogFollower):
    def __init__(
        self,
        engine: AsyncEngine,
        pager: Pager,
        groups_by_rule: Mapping[str, Sequence[str]],
        ticket_url: str,
        clock: Clock,
        *,
        name: str = "sla-alerts",
        idle_wait: float = 0.2,
        oncall_pager: OnCallPager | None = None,
    ) -> None:
        super().__init__()
        self.engine = engine
        self.store = SqlEventStore(engine)
        self.pager = pager
        self.groups_by_rule = groups_by_rule
        self.ticket_url = ticket_url
        self.clock = clock
        self.name = name
        self.idle_wait = idle_wait
        self.max_backoff = 10.0
        self.oncall_pager = oncall_pager
        self.alerts = SqlAlertStore(engine)

    outages = (*DATABASE_ERRORS, StoreUnavailable, OSError)

    def failed(self, error: BaseException, retry_in: float) -> None:
        log.warning("alert dispatcher cannot read verdicts", error=repr(error))

    async def step(self, resource: object, checkpoint: LogCursor) -> LogCursor:
        return await self.dispatch_batch(checkpoint)

    async def start_position(self) -> LogCursor:
        return await saved_or_log_end(self.engine, self.name, self.clock.now())

    async def dispatch_batch(self, checkpoint: LogCursor) -> LogCursor:
        """Each verdict in order; a run of alert events is delivered together, one
        message per target (a storm of clocks breaking at once reaches each person as one
        message, not hundreds). Events the page limit held are sent first once there is
        room."""
        if self.oncall_pager is not None and self.oncall_pager.holding:
            await self.oncall_pager.release_held(self.clock.now(), self._current)
        batch = await self.store.read_all(checkpoint, 200, PAGED)
        if not batch:
            return checkpoint
        run: list[RecordedEvent] = []
        for event in batch:
            if self._stopping.is_set():
                break
            if self.oncall_pager is not None and event.type in DELIVERED:
                run.append(event)
                continue
            if run:
                checkpoint, run = await self._deliver_run(run), []
            paged = await self._page_verdict(event)
            if event.type in VERDICTS_PAGED:
                VERDICTS.labels(event.type, str(event.data["rule"])).inc()
            if paged:
                # Saved after each alert: a stop or crash repeats at most the one in hand.
                await save_checkpoint(self.engine, self.name, LogCursor.of(event), self.clock.now())
            checkpoint = LogCursor.of(event)
        if run and not self._stopping.is_set():
            checkpoint = await self._deliver_run(run)
        await save_checkpoint(self.engine, self.name, checkpoint, self.clock.now())
        return checkpoint

    async def _deliver_run(self, run: list[RecordedEvent]) -> LogCursor:
        assert self.oncall_pager is not None
        steps = []
        for event in run:
            paged = await self._alert_at(event)
            if paged is not None:
                steps.append((paged, decoded(event), str(event.event_id)))
        await self.oncall_pager.deliver_steps(steps, self.clock.now())
        reached = LogCursor.of(run[-1])
        await save_checkpoint(self.engine, self.name, reached, self.clock.now())
        return reached

    async def _page_verdict(self, event: RecordedEvent) -> bool:
        if event.type not in VERDICTS_PAGED:
            return False
        groups = self.groups_by_rule.get(str(event.data["rule"]), ("oncall",))
        if not groups:  # its clocks climb an escalation chain instead
            return False
        alert = alert_from(event.type, str(event.event_id), event.data, self.ticket_url)
        await self.pager.page(alert, groups)
        return True

    async def _current(self, alert_id: str, event_id: str) -> Step | None:
        """A held event with its alert as it stands now (what a late message must say)."""
        history = await self.alerts.history(alert_id)
        event = next((r for r in history if str(r.event_id) == event_id), None)
        alert = fold(decoded(r) for r in history)
        return None if event is None or alert is None else (alert, decoded(event), event_id)

    async def _alert_at(self, event: RecordedEvent) -> OnCallAlert | None:
        """The alert as it stood when ``event`` was recorded (what its page must say)."""
        history = await self.alerts.history(event.stream_id)
        return fold(decoded(r) for r in history if r.version <= event.version)
