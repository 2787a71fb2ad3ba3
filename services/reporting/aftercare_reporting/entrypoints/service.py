"""The reporting service as one running process: the projection's consumer and the API."""

from __future__ import annotations

import asyncio
from zoneinfo import ZoneInfo

import structlog
from aiokafka.structs import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from aftercare.clock import Clock, SystemClock
from aftercare.cloudevents import CloudEvent
from aftercare.consumer import ConsumerTuning, IdempotentConsumer
from aftercare.db import DATABASE_ERRORS
from aftercare.http import door_limits
from aftercare.runner import TaskGroup
from aftercare_reporting.entrypoints.app import create_reporting_app
from aftercare_reporting.service_layer.projection import Reporting
from aftercare_reporting.settings import ReportingSettings

log = structlog.get_logger(__name__)

GROUP_ID = "aftercare-reporting"


class ReportingService:
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
        self.clock = clock or SystemClock()
        self.reporting = Reporting(engine, self.clock, ZoneInfo(settings.sla_timezone))
        self.consumer = IdempotentConsumer(
            engine,
            bootstrap_servers,
            [settings.ticket_events_topic],
            group_id,
            self._handle,
            name="reporting",
            tuning=tuning,
            clock=self.clock,
        )
        self.serve_http = serve_http
        self.tasks = TaskGroup()

    async def _handle(
        self, connection: AsyncConnection, event: CloudEvent, record: ConsumerRecord
    ) -> None:
        await self.reporting.on_ticket_event(connection, event)

    async def _refresh_gauges(self, every: float = 60.0) -> None:
        """Headline gauges, recomputed every minute; a database outage waits for the next."""
        while True:
            try:
                await self.reporting.publish_headline()
            except DATABASE_ERRORS as error:
                log.warning("headline indicators not refreshed", error=repr(error))
            await asyncio.sleep(every)

    async def start(self) -> None:
        self.tasks.run("reporting-consumer", self.consumer.run())
        self.tasks.run("reporting-gauges", self._refresh_gauges())
        if self.serve_http:
            self.tasks.serve(
                create_reporting_app(
                    self.engine, self.reporting, self.settings.key_ring, door_limits(self.settings)
                ),
                self.settings.reporting_host,
                self.settings.reporting_port,
                self.settings.log_level,
            )

    async def stop(self) -> None:
        await self.tasks.stop()

    async def run_forever(self) -> None:
        await self.start()
        try:
            await self.tasks.wait()
        finally:
            await self.stop()
