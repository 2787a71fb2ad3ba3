"""The SLA watcher as one running service: consumer, scheduler, relay, pager, HTTP API."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import httpx
import structlog
from aiokafka.structs import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from aftercare.china_calendar import (
    PublishedSchedule,
    calendar_status,
    china_calendar,
    load_schedules,
)
from aftercare.clock import Clock, SystemClock
from aftercare.cloudevents import CloudEvent
from aftercare.consumer import ConsumerTuning, IdempotentConsumer
from aftercare.http import door_limits
from aftercare.mail import smtp_of
from aftercare.relay import OutboxRelay
from aftercare.runner import RunningService, TaskGroup
from aftercare_sla.adapters.alert_channels import build_channels
from aftercare_sla.adapters.alert_store import SqlAlertStore
from aftercare_sla.adapters.dispatch import AlertDispatcher
from aftercare_sla.adapters.oncall_pages import AckLinks, OnCallPager
from aftercare_sla.adapters.override_store import SqlOverrideStore
from aftercare_sla.adapters.page_limit_store import SqlPageLimitStore
from aftercare_sla.adapters.pager import Pager
from aftercare_sla.adapters.policy_file import load_policy
from aftercare_sla.adapters.publishing import TOPIC_EVENT_TYPES, sla_cloudevent
from aftercare_sla.adapters.timer_store import SqlWatcherStore
from aftercare_sla.domain.policy import Policy
from aftercare_sla.entrypoints.ack_page import AckPage
from aftercare_sla.entrypoints.alert_follower import AlertFollower
from aftercare_sla.entrypoints.app import create_sla_app
from aftercare_sla.service_layer.alert_keeper import AlertKeeper
from aftercare_sla.service_layer.watcher import SlaWatcher
from aftercare_sla.settings import SlaSettings

log = structlog.get_logger(__name__)

GROUP_ID = "aftercare-sla-watcher"
ALERTS = "sla-alerts"
KEEPER = "sla-alert-keeper"


def _watcher(
    settings: SlaSettings,
    store: SqlWatcherStore,
    policy: Policy,
    clock: Clock,
    schedules: Sequence[PublishedSchedule],
) -> SlaWatcher:
    calendar = china_calendar(
        settings.sla_timezone,
        settings.sla_company_holidays,
        settings.sla_company_working_days,
        schedules,
    )
    grace = timedelta(seconds=settings.sla_grace_seconds)
    return SlaWatcher(store, policy, calendar, clock, grace=grace)


def paging_groups(policy: Policy) -> dict[str, list[str]]:
    """The paging groups of each rule, in the policy's order, each once."""
    groups: dict[str, list[str]] = {}
    for target in policy.resolved():
        groups.setdefault(target.rule, [])
        groups[target.rule] += [g for g in target.page if g not in groups[target.rule]]
    return groups


class SlaService(RunningService):
    """Everything the watcher runs; ``start`` then ``stop`` (tests keep hold of the parts)."""

    def __init__(
        self,
        settings: SlaSettings,
        engine: AsyncEngine,
        bootstrap_servers: str,
        *,
        policy: Policy | None = None,
        clock: Clock | None = None,
        tuning: ConsumerTuning | None = None,
        serve_http: bool = True,
        alert_backoff: float = 0.5,
        relay_idle_wait: float = 0.05,
    ) -> None:
        self.settings = settings
        self.engine = engine
        kafka = settings.kafka_connection(bootstrap_servers)
        self.clock = clock or SystemClock()
        self.policy = policy or load_policy(settings.sla_policy)
        schedules = load_schedules(settings.sla_calendar_files)
        self.calendar = calendar_status(self.clock.now().date(), schedules)
        if self.calendar.missing_years:  # working-day deadlines there ignore its 调休
            log.warning("no official holiday schedule", years=list(self.calendar.missing_years))
        store = SqlWatcherStore(engine)
        self.watcher = _watcher(settings, store, self.policy, self.clock, schedules)
        self.topic = settings.ticket_events_topic
        self.consumer = IdempotentConsumer(
            engine,
            kafka,
            [self.topic],
            GROUP_ID,
            self._handle,
            name="sla-watcher",
            tuning=tuning,
            clock=self.clock,
            between_polls=self._tick,
        )
        self.relay = OutboxRelay(
            engine,
            kafka,
            settings.sla_topic,
            sla_cloudevent,
            name="sla-events",
            event_types=TOPIC_EVENT_TYPES,
            idle_wait=relay_idle_wait,
            clock=self.clock,
        )
        self.http = httpx.AsyncClient(timeout=10)
        channels = build_channels(self.policy.paging, self.http, smtp_of(settings))
        pager = Pager(channels, backoff=alert_backoff)
        groups = paging_groups(self.policy)
        self.keeper = AlertKeeper(
            SqlAlertStore(engine),
            self.policy.oncall,
            groups,
            self.clock,
            overrides=SqlOverrideStore(engine),
        )
        self.links = AckLinks(
            settings.oncall_secret,
            settings.oncall_public_url or settings.sla_url,
            timedelta(hours=settings.oncall_link_hours),
        )
        oncall = self.policy.oncall
        self.ack_page = AckPage(oncall, settings.console_url, settings.sla_timezone)
        oncall_pager = OnCallPager(
            pager, channels, oncall, smtp_of(settings), self.links, settings.console_url,
            limits=SqlPageLimitStore(engine, oncall.page_limit),
        )  # fmt: skip
        per_verdict = {  # a clock climbing a chain is not also paged per verdict there
            rule: [g for g in names if g != self.keeper.escalating_group(rule)]
            for rule, names in groups.items()
        }
        self.dispatcher = AlertDispatcher(
            engine, pager, per_verdict, settings.console_url, self.clock, oncall_pager=oncall_pager
        )
        self.alert_follower = AlertFollower(engine, self.keeper, self.clock, self.dispatcher.wake)
        self.serve_http = serve_http
        self.tasks = TaskGroup()

    async def _handle(
        self, connection: AsyncConnection, event: CloudEvent, record: ConsumerRecord
    ) -> None:
        await self.watcher.on_ticket_event(
            SqlWatcherStore.unit_on(connection), event, record.partition
        )
        self.relay.wake()

    async def _tick(self) -> float | None:
        """Fire what is due on the partitions this watcher owns and has read to the end."""
        if await self.watcher.fire_due(self.consumer.settled_partitions()):
            self.relay.wake()
        return await self.watcher.seconds_until_due(self.consumer.owned_partitions())

    async def start(self) -> None:
        recomputed = await self.watcher.recompute_open_tickets()
        if recomputed.tickets:
            print(
                f"SLA policy {self.watcher.policy_version}: recomputed {recomputed.tickets} open "
                f"tickets, {recomputed.deadlines_moved} deadlines moved",
                flush=True,
            )
        self.tasks.run("sla-consumer", self.consumer.run())
        self.tasks.run("sla-relay", self.relay.run())
        self.tasks.run(ALERTS, self.dispatcher.run())
        if self.policy.oncall.escalation:
            self.tasks.run(KEEPER, self.alert_follower.run())
        if self.serve_http:
            self.tasks.serve(
                create_sla_app(
                    self.engine,
                    self.clock,
                    self.settings.key_ring,
                    door_limits(self.settings),
                    self.calendar,
                    self.policy.oncall,
                    (self.keeper, self.links, self.ack_page),
                ),
                self.settings.listen_host(self.settings.sla_host),
                self.settings.sla_port,
                self.settings.log_level,
            )

    async def stop(self) -> None:
        self.alert_follower.request_stop()  # the steps in hand are recorded, then it stops
        self.dispatcher.request_stop()  # finishes the alert in hand: nothing paged twice
        # Within the part's grace period, leaving time for the rest of the stop.
        within = self.settings.shutdown_grace_seconds / 3
        await self.tasks.let_finish(KEEPER, within=within)
        await self.tasks.let_finish(ALERTS, within=within)
        await self.tasks.stop()
        await self.http.aclose()
