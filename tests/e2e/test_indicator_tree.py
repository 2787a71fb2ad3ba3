"""Q's indicator tree over HTTP on SQLite and PostgreSQL: operator entries recorded as
events with who entered them, the weighted score of a period from cases walked through
the real ticket API and those entries, reproducible as of an earlier day."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.clock import FixedClock
from aftercare_reporting.entrypoints.app import create_reporting_app
from aftercare_reporting.service_layer.projection import Reporting
from tests.e2e.test_kpis import KEYS, body, project, walk
from tests.support.event_log import every_event
from tests.support.sla_scenarios import CST

BOSS = {"Authorization": "Bearer boss"}


async def test_entries_and_the_weighted_score(
    api: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock
) -> None:
    start = clock.now()
    await walk(  # resolved at the first contact in 1 h, rated 5: M-FCR 100, M-CSAT 100
        api,
        clock,
        (2, "acknowledge", body("acknowledge")),
        (30, "diagnose", body("diagnose")),
        (60, "resolve", body("resolve")),
        (70, "revisit", {"satisfaction": 5}),
    )
    clock.set(start + timedelta(hours=3))
    reporting = Reporting(engine, clock, CST)
    await project(engine, reporting)
    transport = httpx.ASGITransport(app=create_reporting_app(engine, reporting, KEYS))
    period = {"from": start.isoformat(), "to": (start + timedelta(days=1)).isoformat()}
    async with httpx.AsyncClient(transport=transport, base_url="http://r", headers=BOSS) as client:
        tree = (await client.get("/indicators")).json()
        assert [d["weight"] for d in tree["dimensions"]] == [20, 32, 38, 10]
        entries = {
            "entries": [
                {"indicator": "Q-TRAINING-HOURS", "from": "2026-01-01", "value": 30},
                {"indicator": "Q-SAFETY-INCIDENTS", "from": "2026-01-01", "value": 0},
            ]
        }
        first = await client.post("/indicators/entries", json=entries)
        assert first.status_code == 201, first.text
        assert first.json() == {"recorded": 2, "unchanged": 0}
        again = await client.post("/indicators/entries", json=entries)
        assert again.json() == {"recorded": 0, "unchanged": 2}
        before = (await client.get("/score", params=period)).json()

        clock.set(start + timedelta(hours=4))  # training hours corrected later that day
        fixed = {"entries": [{"indicator": "Q-TRAINING-HOURS", "from": "2026-01-01", "value": 40}]}
        assert (await client.post("/indicators/entries", json=fixed)).json()["recorded"] == 1
        after = (await client.get("/score", params=period)).json()
        earlier = {**period, "as_of": (start + timedelta(hours=3, minutes=30)).isoformat()}
        replayed = (await client.get("/score", params=earlier)).json()

        bad = await client.post(
            "/indicators/entries",
            json={"entries": [{"indicator": "M-FCR", "from": "2026-01-01", "value": 1}]},
        )
        listed = (
            await client.get("/indicators/entries", params={"indicator": "Q-TRAINING-HOURS"})
        ).json()
        nobody = await client.get("/score", params=period, headers={"Authorization": "Bearer look"})

    def dimension(answer: dict[str, object], name: str) -> dict[str, object]:
        dimensions = answer["dimensions"]
        assert isinstance(dimensions, list)
        return next(d for d in dimensions if d["dimension"] == name)

    # Resources: training 30 of 40 h → 75 (the only one entered); results: FCR, RESOLVED,
    # CSAT, REPEAT, EXTRA-FEE (no repair: not judged), safety 0 incidents → 100 each.
    assert dimension(before, "resources")["score"] == 75.0
    assert dimension(after, "resources")["score"] == 100.0
    assert dimension(replayed, "resources")["score"] == 75.0  # as it was known then
    assert dimension(after, "results")["score"] == 100.0
    assert before["score"] < after["score"]
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "entries.0.indicator"
    assert [e["value"] for e in listed] == [40.0, 30.0]  # the latest correction first
    assert nobody.status_code == 403
    recorded = [e for e in await every_event(engine) if e.type == "IndicatorEntered"]
    assert len(recorded) == 3
    assert all(e.data["entered_by"].startswith("key-") for e in recorded)
