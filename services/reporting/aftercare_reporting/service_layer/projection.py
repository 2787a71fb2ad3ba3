"""The reporting projection: every published ticket event kept as a fact of its case
(the consumer's handler), and the indicators of a period computed from them."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

import structlog
from prometheus_client import Gauge
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from aftercare.channels import Channel, Message
from aftercare.clock import Clock
from aftercare.cloudevents import CloudEvent
from aftercare.lru import Lru
from aftercare_reporting.adapters import episodes, indicator_entries, store
from aftercare_reporting.adapters.sla_contract import verdict_of
from aftercare_reporting.domain.alarms import AlarmChange, judge
from aftercare_reporting.domain.cases import Fact, Verdict
from aftercare_reporting.domain.defects import DefectGroup, defect_groups, over_threshold
from aftercare_reporting.domain.events import QualityAlertRaised
from aftercare_reporting.domain.indicator_tree import DEFAULT_WEIGHTS
from aftercare_reporting.domain.periods import Period, Row, Slice, tabulate
from aftercare_reporting.domain.tree_score import TreeScore, tree_score
from aftercare_ticket.contract import event_name

log = structlog.get_logger(__name__)

HEADLINE = Gauge(
    "aftercare_kpi",
    "Headline service-quality indicators of the current month (docs/kpis.md), by ID.",
    ["kpi"],
)
HEADLINE_TARGET = Gauge("aftercare_kpi_target", "The target of each headline indicator.", ["kpi"])


COMPUTED = 16
"""How many computed answers are kept (a quarter's is a few MB at most)."""


class Reporting:
    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        zone: tzinfo,
        weights: Mapping[str, float] = DEFAULT_WEIGHTS,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.zone = zone
        self.weights = dict(weights)
        """The dimension weights of Q's tree (the indicators file's, else Q's defaults)."""
        self._computed: Lru[tuple[Any, ...], tuple[datetime, list[Row]]] = Lru(COMPUTED)
        """Indicators computed lately, each with when: asked again while none of its
        cases changed, the same answer is given without folding them again."""

    async def on_events(self, connection: AsyncConnection, events: Sequence[CloudEvent]) -> None:
        """The consumer's handler for a batch from both topics it reads: ticket events
        become facts of their case, the watcher's verdicts count in M-SLA and M-SPARES.
        Each is kept under its own identity (ticket and sequence; ticket, rule and
        cycle), so a redelivered one changes nothing."""
        facts: list[tuple[str, Fact]] = []
        verdicts: list[tuple[str, Verdict, datetime]] = []
        for event in events:
            name = event_name(event.type)
            if name is not None:
                if event.sequence is not None:
                    facts.append(
                        (event.subject, Fact(event.sequence, name, event.time, event.data))
                    )
            elif (verdict := verdict_of(event)) is not None:
                verdicts.append((event.subject, verdict, event.time))
        if facts or verdicts:
            await store.store_arrivals(connection, store.Arrival(facts, verdicts), self.clock.now())

    async def on_event(self, connection: AsyncConnection, event: CloudEvent) -> None:
        await self.on_events(connection, [event])

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
        now = self.clock.now()
        cut_off = min(as_of or now, now)
        key = (start, end, period, by, None if as_of is None or as_of >= now else cut_off)
        cached = self._computed.get(key)
        changed = await store.last_change(self.engine, start, end)
        if cached is not None and (changed is None or changed < cached[0]):
            return cached[1]  # nothing about these cases was recorded since
        cases = await store.cases_raised(self.engine, start, end, cut_off)
        # Pure and CPU-bound: off the event loop, so requests and the consumer go on.
        rows = await asyncio.to_thread(tabulate, cases, start, end, period, by, self.zone)
        self._computed.put(key, (now, rows))
        return rows

    async def tree_score(
        self, start: datetime, end: datetime, as_of: datetime | None = None
    ) -> TreeScore:
        """Q's tree over [start, end): the period's KPIs and the entered values holding
        at its end, as recorded by ``as_of``."""
        cut_off = min(as_of or self.clock.now(), self.clock.now())
        rows = await self.kpis(start, end, as_of=cut_off)
        computed = {r.kpi: r for r in rows[0].results} if rows else {}
        entered = await indicator_entries.values_before(self.engine, end, cut_off)
        return tree_score(computed, entered, self.weights)

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

    async def check_alarms(
        self, window_days: int, channels: Sequence[Channel]
    ) -> list[AlarmChange]:
        """Q §九: the indicators over the trailing window against their targets; an alarm
        when one starts missing, a message when it recovers, each once per episode."""
        now = self.clock.now()
        rows = await self.kpis(now - timedelta(days=window_days), now)
        changes = judge(rows[0].results if rows else [], await episodes.alarm_states(self.engine))
        for change in changes:
            await self._announce(change, window_days, channels)
            await episodes.set_alarm(self.engine, change.kpi, change.change == "raised", now)
        return changes

    async def _announce(
        self, change: AlarmChange, window_days: int, channels: Sequence[Channel]
    ) -> None:
        result = change.result
        text = (
            f"{result.kpi}: {result.value} (target {result.comparison} {result.target}), "
            f"{result.numerator:g} of {result.denominator} cases over the last "
            f"{window_days} days.\nCases counting against it: "
            + (", ".join(result.tickets[:20]) or "-")
            + "\n"
        )
        message = Message(
            id=f"kpi-{change.change}-{result.kpi}-{self.clock.now().isoformat()}",
            subject=change.headline(window_days),
            text=text,
            document={
                "type": f"kpi.alarm.{change.change}",
                "kpi": result.kpi,
                "value": result.value,
                "target": result.target,
                "numerator": result.numerator,
                "denominator": result.denominator,
                "window_days": window_days,
                "tickets": list(result.tickets[:100]),
            },
        )
        log.warning("kpi alarm", kpi=result.kpi, change=change.change, value=result.value)
        for channel in channels:
            try:
                await channel.send(message)
            except Exception as error:  # one channel down never stops the others
                log.error("kpi alarm not delivered", channel=channel.kind, error=repr(error))

    async def defects(self, start: datetime, end: datetime) -> list[DefectGroup]:
        """Faults of the cases raised in [start, end), by model, lot and cause."""
        return defect_groups(await store.cases_raised(self.engine, start, end, self.clock.now()))

    async def check_quality(self, window_days: int, threshold: int) -> list[DefectGroup]:
        """A ``QualityAlertRaised`` for each model, lot and cause at the threshold within
        the window, once per window (the alert's stream says when it last fired)."""
        now = self.clock.now()
        since = now - timedelta(days=window_days)
        cases = await store.cases_raised(self.engine, since - timedelta(days=90), now, now)
        raised = []
        for group in over_threshold(defect_groups(cases, since), threshold):
            alert = QualityAlertRaised(
                model=group.model,
                lot=group.lot,
                cause=group.cause,
                count=group.count,
                threshold=threshold,
                window_days=window_days,
                first_at=group.first_at,
                last_at=group.last_at,
                tickets=list(group.tickets[:100]),
                occurred_at=now,
            )
            if await episodes.raise_quality_alert(self.engine, group.key, alert, since):
                raised.append(group)
                log.warning("quality alert", group=group.key, count=group.count)
        return raised
