"""Indicators of cases walked through the real ticket API, on SQLite and PostgreSQL:
the published events go through the reporting projection, and ``GET /kpis`` answers
with the hand-computed figures, per period and slice, and as of an earlier cut-off."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.auth import KeyRing, parse_api_keys
from aftercare.clock import FixedClock
from aftercare.db import transaction
from aftercare_reporting.entrypoints.app import create_reporting_app
from aftercare_reporting.service_layer.projection import Reporting
from aftercare_ticket.adapters.publishing import ticket_cloudevent
from aftercare_ticket.domain.vocabulary import Kind
from aftercare_ticket.examples import T0, raise_body, sample
from tests.support.event_log import every_event
from tests.support.sla_scenarios import CST

KEYS = KeyRing(parse_api_keys("boss=supervisor,look=reader"))
SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "events"
QUALITY_SCHEMA = json.loads((SCHEMAS / "QualityAlertRaised.v1.json").read_text(encoding="utf-8"))


async def walk(
    api: httpx.AsyncClient, clock: FixedClock, *steps: tuple[int, str, dict[str, object]]
) -> str:
    clock.set(T0)
    raised = await api.post("/tickets", json=raise_body().model_dump(mode="json"))
    ticket = raised.json()["id"]
    for minutes, name, body in steps:
        clock.set(T0 + timedelta(minutes=minutes))
        answer = await api.post(f"/tickets/{ticket}/{name}", json=body)
        assert answer.status_code == 200, answer.text
    return str(ticket)


def body(name: str) -> dict[str, object]:
    return sample(name).model_dump(mode="json", exclude_none=True)


async def project(engine: AsyncEngine, reporting: Reporting) -> None:
    async with transaction(engine) as connection:
        for recorded in await every_event(engine):
            event = ticket_cloudevent(recorded)
            if event is not None:
                await reporting.on_event(connection, event)


async def test_kpis_of_walked_cases(
    api: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock
) -> None:
    quick = await walk(
        api,
        clock,
        (2, "acknowledge", body("acknowledge")),
        (30, "diagnose", body("diagnose")),
        (60, "resolve", body("resolve")),
        (70, "revisit", {"satisfaction": 5}),
    )
    slow = await walk(
        api,
        clock,
        (20, "acknowledge", body("acknowledge")),
        (30, "request-info", body("request_info")),
        (90, "provide-info", body("provide_info")),
        (100, "diagnose", body("diagnose")),
        (200, "resolve", body("resolve")),
        (210, "revisit", {"satisfaction": 2}),
    )
    reporting = Reporting(engine, clock, CST)
    clock.set(T0 + timedelta(hours=5))
    await project(engine, reporting)
    await project(engine, reporting)  # redelivered: nothing counts twice
    transport = httpx.ASGITransport(app=create_reporting_app(engine, reporting, KEYS))
    async with httpx.AsyncClient(transport=transport, base_url="http://r") as client:
        params = {"from": T0.isoformat(), "to": (T0 + timedelta(days=1)).isoformat()}
        forbidden = await client.get(
            "/kpis", params=params, headers={"Authorization": "Bearer look"}
        )
        assert forbidden.status_code == 403
        boss = {"Authorization": "Bearer boss"}
        answer = (await client.get("/kpis", params=params, headers=boss)).json()
        [row] = answer["rows"]
        kpis = {k["kpi"]: k for k in row["kpis"]}
        assert row["cases"] == 2
        assert (kpis["M-RESPONSE-RATE"]["numerator"], kpis["M-RESPONSE-RATE"]["denominator"]) == (
            1,
            2,
        )
        assert kpis["M-RESPONSE-RATE"]["tickets"] == [slow]  # phone: 20 min against 3
        assert kpis["M-FCR"]["value"] == 50.0
        assert kpis["M-FCR"]["tickets"] == [slow]
        assert kpis["M-CSAT"]["value"] == 62.5  # (100 + 25) / 2
        assert kpis["M-REPEAT"]["value"] == 50.0  # the unsatisfied revisit reopened it
        assert answer["definitions"]
        by_kind = await client.get("/kpis", params={**params, "group_by": "kind"}, headers=boss)
        assert [r["slice"] for r in by_kind.json()["rows"]] == ["support"]
        earlier = {**params, "as_of": (T0 + timedelta(hours=1)).isoformat()}
        before = (await client.get("/kpis", params=earlier, headers=boss)).json()
        # Recorded by the projection at T0+5h: as of T0+1h it knew nothing yet.
        assert before["rows"][0]["cases"] == 0
        assert await reporting.publish_headline() > 0  # the gauges Grafana reads
        metrics = (await client.get("/metrics")).text
        assert 'aftercare_kpi{kpi="M-FCR"} 50.0' in metrics
        assert 'aftercare_kpi_target{kpi="M-FCR"} 85.0' in metrics
        empty = await client.get(
            "/kpis", params={"from": params["to"], "to": params["from"]}, headers=boss
        )
        assert empty.status_code == 422
        assert empty.headers["content-type"] == "application/problem+json"
    assert quick != slow


async def test_the_report_command_writes_the_indicators_as_csv(
    api: httpx.AsyncClient,
    engine: AsyncEngine,
    clock: FixedClock,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import csv
    import io

    from aftercare_reporting.settings import ReportingSettings
    from aftercare_system.report import report_command

    await walk(api, clock, (2, "acknowledge", body("acknowledge")))
    reporting = Reporting(engine, clock, CST)
    await project(engine, reporting)
    out = io.StringIO()
    monkeypatch.setenv("DATABASE_URL", database_url)  # as an operator would
    settings = ReportingSettings()
    day = T0.astimezone(CST).date()
    await report_command(
        settings, day.isoformat(), (day + timedelta(days=1)).isoformat(), "all", None, out
    )
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    response = next(r for r in rows if r["kpi"] == "M-RESPONSE-RATE")
    assert (response["cases"], response["numerator"], response["denominator"]) == ("1", "1", "1")
    assert {r["definitions"] for r in rows} == {"2026.1"}


async def test_kpi_alarms_reach_the_webhook_once_per_episode(
    api: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock
) -> None:
    from aftercare.channels import WebhookChannel
    from tests.support.receivers import webhook_receiver

    for _ in range(5):  # five cases, each needing information from the customer: M-FCR 0 %
        await walk(
            api,
            clock,
            (1, "acknowledge", body("acknowledge")),
            (2, "request-info", body("request_info")),
            (3, "provide-info", body("provide_info")),
            (4, "diagnose", body("diagnose")),
            (5, "resolve", body("resolve")),
        )
    reporting = Reporting(engine, clock, CST)
    clock.set(T0 + timedelta(hours=1))
    await project(engine, reporting)
    async with webhook_receiver() as hook, httpx.AsyncClient(timeout=5) as client:
        channels = [WebhookChannel(client, f"{hook.url}/kpi", "s3cret")]
        first = await reporting.check_alarms(7, channels)
        again = await reporting.check_alarms(7, channels)
        alarms = [r.json() for r in hook.received if r.path == "/kpi"]
    assert {c.kpi for c in first} >= {"M-FCR"}
    assert again == []
    fcr = [a for a in alarms if a["kpi"] == "M-FCR"]
    assert len(fcr) == 1
    assert fcr[0]["type"] == "kpi.alarm.raised"
    assert (fcr[0]["value"], fcr[0]["denominator"]) == (0.0, 5)
    assert len(fcr[0]["tickets"]) == 5


async def test_defects_are_grouped_and_fed_back_once_per_window(
    api: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock
) -> None:
    """Wn, S A12: three quality faults of one model and lot raise one QualityAlertRaised,
    published on its own topic's schema; GET /defects lists the group."""
    from jsonschema import Draft202012Validator, FormatChecker

    from aftercare_reporting.adapters.publishing import quality_cloudevent
    from aftercare_ticket.examples import raise_body as raised_body

    product = {"sku": "WF-200", "model": "W200", "lot": "L2603", "purchase_date": "2026-02-20"}
    diagnose = {"findings": "Bearing seized", "method": "remote", "fault_cause": "quality"}
    for _ in range(3):
        clock.set(T0)
        body_ = raised_body(Kind.REPAIR, product=product).model_dump(mode="json")
        ticket = (await api.post("/tickets", json=body_)).json()["id"]
        clock.set(T0 + timedelta(minutes=5))
        await api.post(f"/tickets/{ticket}/acknowledge", json=body("acknowledge"))
        clock.set(T0 + timedelta(minutes=30))
        answer = await api.post(f"/tickets/{ticket}/diagnose", json=diagnose)
        assert answer.status_code == 200, answer.text
    clock.set(T0 + timedelta(hours=2))
    reporting = Reporting(engine, clock, CST)
    await project(engine, reporting)
    [group] = await reporting.check_quality(window_days=30, threshold=3)
    assert (group.model, group.lot, group.cause, group.count) == ("W200", "L2603", "quality", 3)
    assert await reporting.check_quality(window_days=30, threshold=3) == []  # once per window
    alerts = [e for e in await every_event(engine) if e.type == "QualityAlertRaised"]
    [published] = [quality_cloudevent(e) for e in alerts]
    assert published is not None
    assert published.subject == "W200/L2603"
    Draft202012Validator(QUALITY_SCHEMA, format_checker=FormatChecker()).validate(published.data)
    transport = httpx.ASGITransport(app=create_reporting_app(engine, reporting, KEYS))
    async with httpx.AsyncClient(transport=transport, base_url="http://r") as client:
        params = {"from": T0.isoformat(), "to": (T0 + timedelta(days=1)).isoformat()}
        listed = await client.get(
            "/defects", params=params, headers={"Authorization": "Bearer boss"}
        )
    [top] = listed.json()
    assert (top["model"], top["lot"], top["count"]) == ("W200", "L2603", 3)


async def test_the_report_in_html_and_csv(
    api: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock
) -> None:
    """Q §七 reports on demand: Chinese headings and the figures in the HTML page (no
    script, no external asset), the same figures in the CSV."""
    await walk(
        api,
        clock,
        (20, "acknowledge", body("acknowledge")),
        (30, "diagnose", body("diagnose")),
        (60, "resolve", body("resolve")),
    )
    clock.set(T0 + timedelta(hours=2))
    reporting = Reporting(engine, clock, CST)
    await project(engine, reporting)
    transport = httpx.ASGITransport(app=create_reporting_app(engine, reporting, KEYS))
    boss = {"Authorization": "Bearer boss"}
    params = {"from": T0.isoformat(), "to": (T0 + timedelta(days=1)).isoformat(), "period": "all"}
    async with httpx.AsyncClient(transport=transport, base_url="http://r", headers=boss) as client:
        page = await client.get("/reports/kpis.html", params=params)
        english = await client.get("/reports/kpis.html", params={**params, "language": "en"})
        table = await client.get("/reports/kpis.csv", params=params)
        nobody = await client.get(
            "/reports/kpis.csv", params=params, headers={"Authorization": "Bearer look"}
        )
    assert page.headers["content-type"].startswith("text/html")
    for heading in ("售后服务质量报告", "执行摘要", "未达标指标", "主要质量缺陷"):
        assert heading in page.text
    assert "<script" not in page.text
    assert "http" not in page.text.split("<body>", 1)[1]  # no external asset
    assert "M-RESPONSE-RATE" in page.text
    assert "Service quality report" in english.text
    rows = {r.split(",")[4]: r.split(",") for r in table.text.splitlines()[1:]}
    assert rows["M-FCR"][5:8] == ["100.0", "1", "1"]
    assert table.headers["content-type"].startswith("text/csv")
    assert nobody.status_code == 403
