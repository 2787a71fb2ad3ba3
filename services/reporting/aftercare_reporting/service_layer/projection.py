"""The reporting projection: every published ticket event kept as a fact of its case
(the consumer's handler), and the indicators of a period computed from them."""

from __future__ import annotations

from datetime import datetime, time, tzinfo

from prometheus_client import Gauge
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from aftercare.clock import Clock
from aftercare.cloudevents import CloudEvent
from aftercare_reporting.adapters import store
from aftercare_reporting.domain.cases import Fact
from aftercare_reporting.domain.periods import Period, Row, Slice, tabulate
from aftercare_ticket.contract import event_name

HEADLINE = Gauge(
    "aftercare_kpi",
    "Headline service-quality indicators of the current month (docs/kpis.md), by ID.",
    ["kpi"],
)
HEADLINE_TARGET = Gauge("aftercare_kpi_target", "The target of each headline indicator.", ["kpi"])


class Reporting:
    def __init__(self, engine: AsyncEngine, clock: Clock, zone: tzinfo) -> None:
        self.engine = engine
        self.clock = clock
        self.zone = zone

    async def on_ticket_event(self, connection: AsyncConnection, event: CloudEvent) -> None:
        name = event_name(event.type)
        if name is None or event.sequence is None:
            return
        fact = Fact(event.sequence, name, event.time, event.data)
        await store.store_fact(connection, event.subject, fact, self.clock.now())

    async def kpis(
        self,
        start: datetime,
        end: datetime,
        period: Period = "all",
        by: Slice | None = None,
        as_of: datetime | None = None,
    ) -> list[Row]:
        """The indicators of the cases raised in [start, end), per period and slice, as
        recorded by ``as_of`` (now): the same answer whenever it is asked again."""
        cut_off = min(as_of or self.clock.now(), self.clock.now())
        cases = await store.cases_raised(self.engine, start, end, cut_off)
        return tabulate(cases, start, end, period, by, self.zone)

    async def publish_headline(self) -> int:
        """The current month's indicators as Prometheus gauges (for Grafana); how many."""
        now = self.clock.now().astimezone(self.zone)
        month = datetime.combine(now.date().replace(day=1), time(0), self.zone)
        rows = await self.kpis(month, self.clock.now())
        published = 0
        for result in rows[0].results if rows else []:
            if result.value is not None:
                HEADLINE.labels(result.kpi).set(result.value)
                published += 1
            if result.target is not None:
                HEADLINE_TARGET.labels(result.kpi).set(result.target)
        return published
