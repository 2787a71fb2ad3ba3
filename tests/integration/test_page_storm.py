"""No storms (issue: on-call paging): 200 clocks warned in the same minute reach the
engineer on call as one grouped e-mail and the group's chat robot as one message, each
listing at most twenty alerts and counting the rest, while every step stays in the log.
Real SMTP (aiosmtpd) and a real HTTP robot receiver; SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import httpx
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.clock import FixedClock
from aftercare.eventstore import LogCursor, SqlEventStore
from aftercare.mail import SmtpSettings
from aftercare_sla.adapters.alert_channels import build_channels
from aftercare_sla.adapters.dispatch import AlertDispatcher
from aftercare_sla.adapters.oncall_pages import AckLinks, OnCallPager
from aftercare_sla.adapters.pager import Pager
from aftercare_sla.adapters.timer_store import SqlWatcherStore
from aftercare_sla.service_layer.alert_keeper import VERDICTS
from tests.integration.test_alert_keeper import ONCALL, keeper_on
from tests.integration.test_sla_watcher import cloudevents, deliver, email_ticket, watcher_for
from tests.support.receivers import smtp_sink, webhook_receiver
from tests.support.sla_scenarios import T0, later

CLOCKS = 200


def warnings_counted() -> float:
    labels = {"verdict": "SlaWarning", "rule": "T-EMAIL"}
    return REGISTRY.get_sample_value("aftercare_sla_verdicts_total", labels) or 0.0


async def test_two_hundred_clocks_at_once_reach_each_person_as_one_page(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    clock.set(T0)
    watcher = watcher_for(SqlWatcherStore(engine), clock)
    for n in range(CLOCKS):
        await deliver(watcher, cloudevents(f"storm-{n}", email_ticket(), met=False)[:1])
    clock.set(later(8) + timedelta(seconds=1))
    await watcher.fire_due()
    keeper = keeper_on(engine, clock)
    log = await SqlEventStore(engine).read_all(LogCursor.START, 1000, VERDICTS)
    for verdict in log:
        await keeper.on_verdict(verdict)
    assert await keeper.fire_due() == CLOCKS  # level 1 of every alert, each recorded

    async with webhook_receiver() as robot, smtp_sink() as smtp, httpx.AsyncClient() as http:
        paging = {"oncall": [{"type": "dingtalk", "url": f"{robot.url}/ding"}]}
        people = ONCALL.model_copy(
            update={"people": {**ONCALL.people, "li": ONCALL.people["li"].model_copy(
                update={"email": "li@desk.example", "dingtalk": "li-ding"})}}
        )  # fmt: skip
        smtp_settings = SmtpSettings("127.0.0.1", smtp.port, "sla@desk.example")
        channels = build_channels(paging, http, smtp_settings)
        pager = Pager(channels, backoff=0.01)
        links = AckLinks("storm-link-secret-0123", "http://sla.test")
        oncall = OnCallPager(pager, channels, people, smtp_settings, links, "http://tickets")
        dispatcher = AlertDispatcher(
            engine, pager, {"T-EMAIL": []}, "http://tickets", clock, oncall_pager=oncall
        )
        before = warnings_counted()
        checkpoint = LogCursor.START
        while (reached := await dispatcher.dispatch_batch(checkpoint)) != checkpoint:
            checkpoint = reached
        assert warnings_counted() - before == CLOCKS  # the operators' dashboard shows them

    to_li = [m for to, m in smtp.messages if "li@desk.example" in to]
    assert len(to_li) == 1
    [page] = to_li
    assert str(page["Subject"]) == "[SLA warning] 200 alerts for Li Lei (0 breached)"
    text = page.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert text.count("/alerts/ack/") == 20
    assert "… and 180 more" in text
    assert len(robot.received) == 1
    assert robot.received[0].json()["at"]["atUserIds"] == ["li-ding"]
    history = await SqlEventStore(engine).read_all(LogCursor.START, 5000, {"AlertEscalated"})
    assert len(history) == CLOCKS  # nothing dropped from the record
