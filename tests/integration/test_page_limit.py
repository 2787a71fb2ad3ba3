"""The page limit (issue: on-call paging, "rate-capped per target"), on SQLite and
PostgreSQL with real SMTP (aiosmtpd) and a real HTTP robot: clocks breaking one a minute
reach the engineer and the robot twice in ten minutes, the rest is held and sent as one
message listing the alerts as they then stand, and nothing leaves the record."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.clock import FixedClock
from aftercare.eventstore import LogCursor, SqlEventStore
from aftercare.mail import SmtpSettings
from aftercare_sla.adapters.alert_channels import build_channels
from aftercare_sla.adapters.alert_store import SqlAlertStore
from aftercare_sla.adapters.dispatch import AlertDispatcher
from aftercare_sla.adapters.oncall_pages import AckLinks, OnCallPager
from aftercare_sla.adapters.page_limit_store import SqlPageLimitStore
from aftercare_sla.adapters.pager import Pager
from aftercare_sla.adapters.tables import sla_pages_held
from aftercare_sla.adapters.timer_store import SqlWatcherStore
from aftercare_sla.domain.alerting import alert_id
from aftercare_sla.domain.escalation import OnCallPolicy
from aftercare_sla.entrypoints.service import paging_groups
from aftercare_sla.service_layer.alert_keeper import VERDICTS, AlertKeeper
from aftercare_sla.service_layer.watcher import SlaWatcher
from tests.integration.test_sla_watcher import (
    POLICY,
    cloudevents,
    deliver,
    watcher_for,
)
from tests.support.receivers import SmtpSink, WebhookReceiver, smtp_sink, webhook_receiver
from tests.support.sla_scenarios import T0, Scenario, later

LIMITED = OnCallPolicy.model_validate(
    {
        "people": {"li": {"name": "Li Lei", "email": "li@desk.example", "dingtalk": "li-ding"}},
        "schedules": {
            "engineers": {
                "layers": [{"every": "daily", "start": "2026-01-01", "participants": ["li"]}]
            }
        },
        "escalation": {
            "oncall": {"levels": [{"notify": [{"schedule": "engineers"}], "wait": "1h"}]}
        },
        "page_limit": {"messages": 2, "per": "10m"},
    }
)
SECOND = timedelta(seconds=1)


class Desk:
    """The watcher, the keeper and the dispatcher of one database, driven by hand."""

    def __init__(self, engine: AsyncEngine, clock: FixedClock, dispatcher: AlertDispatcher):
        self.engine, self.clock, self.dispatcher = engine, clock, dispatcher
        self.watcher: SlaWatcher = watcher_for(SqlWatcherStore(engine), clock)
        self.keeper = AlertKeeper(SqlAlertStore(engine), LIMITED, paging_groups(POLICY), clock)
        self.verdicts = self.sent = LogCursor.START

    async def at(self, instant: datetime) -> None:
        self.clock.set(instant)
        await self.watcher.fire_due()
        for verdict in await SqlEventStore(self.engine).read_all(self.verdicts, 500, VERDICTS):
            await self.keeper.on_verdict(verdict)
            self.verdicts = LogCursor.of(verdict)
        await self.keeper.fire_due()
        while (reached := await self.dispatcher.dispatch_batch(self.sent)) != self.sent:
            self.sent = reached
        await self.dispatcher.dispatch_batch(self.sent)  # what was held, once there is room


def to_li(smtp: SmtpSink) -> list[str]:
    return [str(m["Subject"]) for to, m in smtp.messages if "li@desk.example" in to]


def robot_texts(robot: WebhookReceiver) -> list[str]:
    return [str(r.json()["markdown"]["text"]) for r in robot.received]


async def held_rows(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        query = select(func.count()).select_from(sla_pages_held)
        return int((await connection.execute(query)).scalar_one())


async def test_a_trickle_of_breaks_is_capped_per_target_and_the_rest_sent_as_one(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    async with webhook_receiver() as robot, smtp_sink() as smtp, httpx.AsyncClient() as http:
        smtp_settings = SmtpSettings("127.0.0.1", smtp.port, "sla@desk.example")
        channels = build_channels(
            {"oncall": [{"type": "dingtalk", "url": f"{robot.url}/ding"}]}, http, smtp_settings
        )
        pager = Pager(channels, backoff=0.01)
        oncall = OnCallPager(
            pager, channels, LIMITED, smtp_settings,
            AckLinks("limit-link-secret-0123", "http://sla.test"), "http://tickets",
            limits=SqlPageLimitStore(engine, LIMITED.page_limit),
        )  # fmt: skip
        dispatcher = AlertDispatcher(
            engine, pager, {"T-EMAIL": []}, "http://tickets", clock, oncall_pager=oncall
        )
        desk = Desk(engine, clock, dispatcher)
        for minute in range(3):  # a ticket a minute: each warned at 8 minutes, breached at 10
            clock.set(later(minute))
            raised = Scenario("T-EMAIL", channel="email", raised_at=later(minute))
            await deliver(desk.watcher, cloudevents(f"trickle-{minute}", raised, met=False))
        for minute in range(8, 13):
            await desk.at(later(minute) + SECOND)

        assert len(to_li(smtp)) == 2, "two pages in the window, the rest held"
        assert len(robot.received) == 2
        assert await held_rows(engine) == 8  # four steps, for li and for the robot
        # One of the held alerts is acknowledged meanwhile: the late message says so.
        await desk.keeper.acknowledge(alert_id("trickle-2", "T-EMAIL", 1), "li", "api")
        await desk.at(later(17) + SECOND)  # the first page is still in the window
        assert len(to_li(smtp)) == 2
        assert await held_rows(engine) == 9  # and the robot's notice of it

        await desk.at(later(18) + SECOND)
        assert len(to_li(smtp)) == 3
        assert to_li(smtp)[2] == "[SLA BREACHED] 3 alerts for Li Lei held back by the page limit"
        [held] = [m for to, m in smtp.messages if "li@desk.example" in to][2:]
        text = held.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        assert "trickle-2 (acknowledged)" in text
        assert "trickle-0 (triggered)" in text
        assert "trickle-1 (triggered)" in text
        assert len(robot.received) == 3
        assert "3 alerts for oncall held back" in robot_texts(robot)[2]
        assert await held_rows(engine) == 0

    escalated = await SqlEventStore(engine).read_all(LogCursor.START, 100, {"AlertEscalated"})
    assert len(escalated) == 6, "every step stays in the record"


async def test_holding_the_same_events_twice_keeps_one_row(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    """A run delivered again after a crash holds what it held before, once."""
    limits = SqlPageLimitStore(engine, LIMITED.page_limit)
    events = [("e-1", "alert-a"), ("e-2", "alert-b")]
    await limits.hold("person:li", events, T0)
    await limits.hold("person:li", [*events, ("e-3", "alert-c")], T0 + SECOND)
    assert await limits.held() == {"person:li": [*events, ("e-3", "alert-c")]}
    await limits.sent({"person:li": "m-1"}, T0)
    await limits.sent({"person:li": "m-2"}, T0 + SECOND)
    assert await limits.room(["person:li", "channel:oncall:0"], T0 + 2 * SECOND) == {
        "person:li": 0,
        "channel:oncall:0": 2,
    }
    assert (await limits.room(["person:li"], T0 + timedelta(minutes=10)))["person:li"] == 1
