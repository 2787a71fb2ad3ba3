"""M-SLA and M-SPARES from the SLA watcher's own verdicts: cases walked through the real
ticket API, their published events judged by the real watcher, its published verdicts
read by the reporting projection (the three services meet only in the contracts)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.china_calendar import china_calendar
from aftercare.clock import FixedClock
from aftercare.db import transaction
from aftercare_reporting.entrypoints.app import create_reporting_app
from aftercare_reporting.service_layer.projection import Reporting
from aftercare_sla.adapters.policy_file import parse_policy
from aftercare_sla.adapters.publishing import sla_cloudevent
from aftercare_sla.adapters.timer_store import SqlWatcherStore
from aftercare_sla.service_layer.watcher import SlaWatcher
from aftercare_ticket.adapters.publishing import ticket_cloudevent
from aftercare_ticket.domain.vocabulary import Kind
from aftercare_ticket.examples import T0, raise_body, sample
from tests.e2e.test_kpis import KEYS
from tests.support.event_log import every_event
from tests.support.sla_scenarios import CST

POLICY = parse_policy(
    (Path(__file__).resolve().parents[2] / "deploy" / "sla-policy.yaml").read_text(),
    "default",
    {},
)


class Desk:
    """The ticket API with the SLA watcher beside it, as the running system has them:
    each published event reaches the watcher when it happens, and deadlines fire as the
    clock passes them."""

    def __init__(self, api: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock) -> None:
        self.api, self.engine, self.clock = api, engine, clock
        self.store = SqlWatcherStore(engine)
        self.watcher = SlaWatcher(self.store, POLICY, china_calendar(), clock)
        self.seen: set[object] = set()

    async def at(self, hours: float) -> None:
        self.clock.set(T0 + timedelta(hours=hours))
        await self.watcher.fire_due()

    async def publish(self) -> None:
        for recorded in await every_event(self.engine):
            published = ticket_cloudevent(recorded)
            if published is not None and recorded.event_id not in self.seen:
                self.seen.add(recorded.event_id)
                async with self.store.transaction() as unit:
                    await self.watcher.on_ticket_event(unit, published, 0)

    async def walk(self, kind: Kind, steps: list[tuple[float, str]], **overrides: object) -> str:
        await self.at(0)
        body = raise_body(kind, **overrides).model_dump(mode="json")
        ticket = str((await self.api.post("/tickets", json=body)).json()["id"])
        await self.publish()
        for hours, name in steps:
            await self.at(hours)
            command = sample(name).model_dump(mode="json", exclude_none=True)
            path = f"/tickets/{ticket}/{name.replace('_', '-')}"
            answer = await self.api.post(path, json=command)
            assert answer.status_code == 200, answer.text
            await self.publish()
        return ticket


async def project(engine: AsyncEngine, reporting: Reporting) -> None:
    """What the reporting consumer does with both topics, twice (at-least-once)."""
    for _ in range(2):
        async with transaction(engine) as connection:
            for recorded in await every_event(engine):
                event = ticket_cloudevent(recorded) or sla_cloudevent(recorded)
                if event is not None:
                    await reporting.on_event(connection, event)


async def test_attainment_per_rule_and_spare_parts_timeliness(
    api: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock
) -> None:
    desk = Desk(api, engine, clock)
    emergency = await desk.walk(  # answered online after 4 min: T-SPARES's 24 h met
        Kind.SPARE_PARTS, [(4 / 60, "acknowledge")], urgent=True, channel="online"
    )
    regular = await desk.walk(  # supplied after three weeks, 7 working days allowed
        Kind.SPARE_PARTS, [(0.02, "acknowledge"), (24 * 21, "resolve")], channel="email"
    )
    slow_phone = await desk.walk(Kind.SUPPORT, [(1 / 3, "acknowledge")])  # T-PHONE: 3 min
    await desk.at(24 * 30)
    reporting = Reporting(engine, clock, CST)
    await project(engine, reporting)

    transport = httpx.ASGITransport(app=create_reporting_app(engine, reporting, KEYS))
    boss = {"Authorization": "Bearer boss"}
    params = {"from": T0.isoformat(), "to": (T0 + timedelta(days=1)).isoformat()}
    async with httpx.AsyncClient(transport=transport, base_url="http://r", headers=boss) as client:
        answer = (await client.get("/kpis", params=params)).json()
    kpis = {k["kpi"]: k for k in answer["rows"][0]["kpis"]}

    def counts(kpi: str) -> tuple[float, int, list[str]]:
        return kpis[kpi]["numerator"], kpis[kpi]["denominator"], kpis[kpi]["tickets"]

    assert counts("M-SPARES") == (1, 2, [regular])  # three weeks for regular parts
    assert (kpis["M-SPARES"]["target"], kpis["M-SPARES"]["met"]) == (100.0, False)
    assert counts("M-SLA/T-PHONE") == (0, 1, [slow_phone])
    assert counts("M-SLA/T-ONLINE") == (1, 1, [])
    assert counts("M-SLA/T-URGENT") == (1, 1, [])
    assert counts("M-SLA/T-EMAIL") == (1, 1, [])
    # No case had a progress update: each one's first interval was missed.
    assert sorted(counts("M-SLA/T-PROGRESS")[2]) == sorted([emergency, regular, slow_phone])
    per_rule = [k for name, k in kpis.items() if name.startswith("M-SLA/")]
    overall = kpis["M-SLA"]
    assert overall["numerator"] == sum(k["numerator"] for k in per_rule)
    assert overall["denominator"] == sum(k["denominator"] for k in per_rule)
    assert set(overall["tickets"]) == {t for k in per_rule for t in k["tickets"]}
    assert (overall["met"], overall["target"]) == (None, None)  # reported, per rule
