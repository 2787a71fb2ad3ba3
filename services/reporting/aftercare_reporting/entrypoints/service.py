"""The reporting service as one running process: the projection's consumer and the API.
Several may run in one consumer group (a rebuild or a busy desk): they share the
projection's partitions, and one of them at a time judges (alarms, quality alerts,
scheduled reports)."""

from __future__ import annotations

import asyncio
from zoneinfo import ZoneInfo

import httpx
import structlog
from aiokafka.errors import KafkaError
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.channels import Channel, EmailChannel, WebhookChannel
from aftercare.china_calendar import china_calendar, load_schedules
from aftercare.clock import Clock, SystemClock
from aftercare.consumer import ConsumerTuning, IdempotentConsumer
from aftercare.db import DATABASE_ERRORS
from aftercare.group_progress import GroupProgress
from aftercare.http import door_limits
from aftercare.leadership import Leadership
from aftercare.mail import smtp_of
from aftercare.relay import OutboxRelay
from aftercare.runner import RunningService, TaskGroup
from aftercare_reporting.adapters.indicator_entries import record_entries
from aftercare_reporting.adapters.indicators_file import load_indicators
from aftercare_reporting.adapters.publishing import quality_cloudevent
from aftercare_reporting.adapters.report_pdf import cjk_font
from aftercare_reporting.domain.events import QUALITY_EVENT_TYPES
from aftercare_reporting.entrypoints.app import create_reporting_app
from aftercare_reporting.service_layer.projection import Reporting
from aftercare_reporting.service_layer.publishing import ReportPublisher, Schedule
from aftercare_reporting.settings import ReportingSettings

log = structlog.get_logger(__name__)

GROUP_ID = "aftercare-reporting"
TUNING = ConsumerTuning(max_batch=5000, concurrent_partitions=True)
"""Larger batches than the default (the projection writes a batch in a few statements),
the partitions applied side by side (a case's row is locked while it is written)."""


def alarm_channels(settings: ReportingSettings, client: httpx.AsyncClient) -> list[Channel]:
    channels: list[Channel] = []
    if settings.reporting_alarm_webhook_url:
        url, secret = settings.reporting_alarm_webhook_url, settings.reporting_alarm_webhook_secret
        channels.append(WebhookChannel(client, url, secret))
    smtp = smtp_of(settings)
    if settings.reporting_alarm_email and smtp is not None:
        addresses = [a.strip() for a in settings.reporting_alarm_email.split(",") if a.strip()]
        channels.append(EmailChannel(smtp, addresses))
    return channels


def report_recipients(settings: ReportingSettings) -> list[Channel]:
    smtp = smtp_of(settings)
    if not settings.reporting_report_email or smtp is None:
        return []
    addresses = [a.strip() for a in settings.reporting_report_email.split(",") if a.strip()]
    return [EmailChannel(smtp, addresses)]


class ReportingService(RunningService):
    def __init__(
        self,
        settings: ReportingSettings,
        engine: AsyncEngine,
        bootstrap_servers: str,
        *,
        clock: Clock | None = None,
        tuning: ConsumerTuning | None = None,
        serve_http: bool = True,
        group_id: str = GROUP_ID,
    ) -> None:
        self.settings = settings
        self.engine = engine
        kafka = settings.kafka_connection(bootstrap_servers)
        self.clock = clock or SystemClock()
        zone = ZoneInfo(settings.sla_timezone)
        weights, self.file_entries = load_indicators(settings.indicators_file, zone)
        self.reporting = Reporting(engine, self.clock, zone, weights)
        self.http = httpx.AsyncClient(timeout=10)
        self.publisher = ReportPublisher(
            self.reporting,
            cjk_font(settings.report_font),
            report_recipients(settings),
            settings.reporting_url,
        )
        self.schedule = Schedule(
            china_calendar(
                settings.sla_timezone,
                settings.sla_company_holidays,
                settings.sla_company_working_days,
                load_schedules(settings.sla_calendar_files),
            ),
            settings.reporting_quarterly_after_working_days,
            settings.reporting_annual_after_working_days,
            settings.reporting_report_language,
        )
        self.consumer = IdempotentConsumer(
            engine,
            kafka,
            [settings.ticket_events_topic, settings.sla_topic],
            group_id,
            None,
            name="reporting",
            tuning=tuning or TUNING,
            clock=self.clock,
            keyed=self.reporting.on_events,  # facts and verdicts are kept under their own keys
        )
        self.progress = GroupProgress(kafka, group_id, self.consumer.topics)
        self.relay = OutboxRelay(
            engine,
            kafka,
            settings.quality_topic,
            quality_cloudevent,
            name="quality-alerts",
            event_types=QUALITY_EVENT_TYPES,
            clock=self.clock,
        )
        self.serve_http = serve_http
        self.alarm_channels = alarm_channels(settings, self.http)
        self.tasks = TaskGroup()

    async def refresh_once(self) -> None:
        """Headline gauges, KPI alarms, quality alerts, and the reports now due."""
        await self.reporting.publish_headline()
        await self.reporting.check_alarms(
            self.settings.reporting_alarm_window_days, self.alarm_channels
        )
        raised = await self.reporting.check_quality(
            self.settings.quality_alert_window_days, self.settings.quality_alert_threshold
        )
        if raised:
            self.relay.wake()
        await self.publisher.publish_due(self.schedule)

    async def projection_current(self, within: float = 10.0) -> bool:
        """The whole group (every member, every partition of both topics) has applied
        what the log held a moment ago. Until then (a rebuild from scratch, a member
        catching up after an outage) the indicators are of a half-folded log: an alarm,
        a quality alert or a published report would be wrong, and a published one stays."""
        return await self.progress.caught_up(within)

    async def _refresh(self, every: float = 60.0) -> None:
        """``refresh_once`` every minute, by one member of the group at a time (the
        others wait to take over), once the projection is current; a database or broker
        outage gives the duty up and waits for the next minute."""
        while True:
            try:
                async with Leadership(self.engine, "reporting-indicators") as held:
                    while True:
                        await held.confirm()
                        if await self.projection_current():
                            await self.refresh_once()
                        else:
                            log.info("indicators wait for the projection to catch up")
                        await asyncio.sleep(every)
            except (*DATABASE_ERRORS, KafkaError, OSError) as error:
                log.warning("indicators not refreshed", error=repr(error))
            await asyncio.sleep(every)

    async def start(self) -> None:
        if self.file_entries:  # recorded once: a repeated value changes nothing
            source = f"file:{self.settings.indicators_file}"
            await record_entries(self.engine, self.file_entries, source[:100], self.clock.now())
        self.tasks.run("reporting-consumer", self.consumer.run())
        self.tasks.run("reporting-refresh", self._refresh())
        self.tasks.run("quality-relay", self.relay.run())
        if self.serve_http:
            self.tasks.serve(
                create_reporting_app(
                    self.engine,
                    self.reporting,
                    self.settings.key_ring,
                    door_limits(self.settings),
                    self.settings.survey_secret,
                    self.publisher,
                ),
                self.settings.listen_host(self.settings.reporting_host),
                self.settings.reporting_port,
                self.settings.log_level,
            )

    async def stop(self) -> None:
        await self.tasks.stop()
        await self.progress.stop()
        await self.http.aclose()
