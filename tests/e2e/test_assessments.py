"""The GB/T 27922 self-assessment over HTTP on SQLite and PostgreSQL: a draft evidenced
by cases walked through the real ticket API, the worked example recorded, refused when
incomplete, revised under optimistic concurrency, listed, and rendered as a report."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.clock import FixedClock
from aftercare_reporting.entrypoints.app import create_reporting_app
from aftercare_reporting.service_layer.projection import Reporting
from aftercare_ticket.domain.vocabulary import Kind
from aftercare_ticket.examples import T0, raise_body, sample
from tests.e2e.test_kpis import KEYS, project
from tests.support.assessments import worked_example
from tests.support.event_log import every_event
from tests.support.sla_scenarios import CST

BOSS = {"Authorization": "Bearer boss"}


async def test_a_self_assessment_from_draft_to_report(
    api: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock
) -> None:
    clock.set(T0)
    complaint = raise_body(Kind.COMPLAINT).model_dump(mode="json")
    ticket = (await api.post("/tickets", json=complaint)).json()["id"]
    clock.set(T0 + timedelta(hours=30))  # answered after 30 h: M-COMPLAINT-24H 0 %
    ack = sample("acknowledge", Kind.COMPLAINT).model_dump(mode="json", exclude_none=True)
    assert (await api.post(f"/tickets/{ticket}/acknowledge", json=ack)).is_success
    reporting = Reporting(engine, clock, CST)
    await project(engine, reporting)
    app = create_reporting_app(engine, reporting, KEYS)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://r", headers=BOSS) as client:
        period = {"from": T0.isoformat(), "to": (T0 + timedelta(days=2)).isoformat()}
        drafted = await client.get("/assessments/draft", params=period)
        assert drafted.status_code == 200, drafted.text
        draft = drafted.json()
        assert draft["suggestions"]["C6"]["share"] == 0.0
        assert draft["suggestions"]["C6"]["tickets"] == [ticket]
        assert draft["suggestions"]["C6"]["figures"][0]["kpi"] == "M-COMPLAINT-24H"

        incomplete = worked_example()
        del incomplete["items"]["A1"], incomplete["items"]["C3"]
        refused = await client.post("/assessments", json=incomplete)
        assert refused.status_code == 422
        assert refused.headers["content-type"] == "application/problem+json"
        assert {e["field"] for e in refused.json()["errors"]} == {"items.A1", "items.C3"}

        created = await client.post("/assessments", json=worked_example())
        assert created.status_code == 201, created.text
        record = created.json()
        assert (record["score"]["total"], record["score"]["level"]) == (77.27, "达标级")
        assert record["entered_by"].startswith("key-")  # the key's name, never the key
        location = created.headers["Location"]

        revised_body = worked_example(deductions=0)
        revised = await client.put(location, json=revised_body, headers={"If-Match": '"1"'})
        assert revised.status_code == 200, revised.text
        assert (revised.json()["version"], revised.json()["score"]["total"]) == (2, 78.27)
        stale = await client.put(location, json=revised_body, headers={"If-Match": '"1"'})
        assert stale.status_code == 409

        listed = (await client.get("/assessments")).json()
        assert [(a["version"], a["total"]) for a in listed] == [(2, 78.27)]
        first = (await client.get(location, params={"version": 1})).json()
        assert first["score"]["total"] == 77.27
        assert (await client.get(location, params={"version": 9})).status_code == 404
        assert (await client.get("/assessments/no-such")).status_code == 404
        page = await client.get(f"{location}/report.html")
        english = await client.get(f"{location}/report.html", params={"language": "en"})
        nobody = await client.get("/assessments", headers={"Authorization": "Bearer look"})
    assert "售后服务评价自评报告" in page.text
    assert "78.27" in page.text
    assert "达标级" in page.text
    assert "不适用" in page.text
    assert "qualified" in english.text
    assert nobody.status_code == 403
    recorded = [e for e in await every_event(engine) if e.type == "AssessmentRecorded"]
    assert [e.version for e in recorded] == [1, 2]
