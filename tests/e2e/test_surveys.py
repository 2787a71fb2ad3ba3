"""The customer's survey over HTTP, on SQLite and PostgreSQL: the page behind the signed
link (no login, no script), one answer per link, scores 1–5, an expired or forged link
refused, and the answer counted in M-CSAT and M-SURVEY-SAMPLE."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.auth import KeyRing, parse_api_keys
from aftercare.clock import FixedClock
from aftercare.tokens import sign
from aftercare_reporting.entrypoints.app import create_reporting_app
from aftercare_reporting.service_layer.projection import Reporting
from aftercare_ticket.examples import T0
from tests.e2e.test_kpis import body, project, walk
from tests.support.sla_scenarios import CST

SECRET = "a-secret-of-some-length"
KEYS = KeyRing(parse_api_keys("boss=supervisor"))
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def test_a_customer_answers_the_survey_once(
    api: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock
) -> None:
    ticket = await walk(
        api,
        clock,
        (2, "acknowledge", body("acknowledge")),
        (10, "diagnose", body("diagnose")),
        (20, "resolve", body("resolve")),
        (30, "revisit", {"satisfaction": 4}),
    )
    clock.set(T0 + timedelta(hours=1))
    reporting = Reporting(engine, clock, CST)
    await project(engine, reporting)
    app = create_reporting_app(engine, reporting, KEYS, survey_secret=SECRET)
    token = sign(SECRET, {"ticket": ticket, "lang": "zh-CN"}, clock.now() + timedelta(days=30))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://r"
    ) as web:
        page = await web.get(f"/surveys/{token}")
        assert page.status_code == 200
        assert "服务态度" in page.text
        assert page.text.count('type="radio"') == 20
        bad = await web.post(
            f"/surveys/{token}", json={"attitude": 9, "speed": 5, "solving": 5, "overall": 5}
        )
        assert bad.status_code == 422
        assert bad.json()["rule"] == "B-SATISFACTION"
        answer = "attitude=5&speed=4&solving=5&overall=2"
        thanks = await web.post(f"/surveys/{token}", content=answer, headers=FORM)
        assert thanks.status_code == 200
        assert "谢谢" in thanks.text
        again = await web.post(f"/surveys/{token}", content=answer, headers=FORM)
        assert again.status_code == 409
        forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
        assert (await web.get(f"/surveys/{forged}")).status_code == 410
        expired = sign(SECRET, {"ticket": ticket, "lang": "en"}, clock.now() - timedelta(seconds=1))
        assert (await web.post(f"/surveys/{expired}", json={})).status_code == 410
        params = {"from": T0.isoformat(), "to": (T0 + timedelta(days=1)).isoformat()}
        kpis = (
            await web.get("/kpis", params=params, headers={"Authorization": "Bearer boss"})
        ).json()
    results = {k["kpi"]: k for k in kpis["rows"][0]["kpis"]}
    assert results["M-CSAT"]["value"] == 25.0  # the customer's own 2, not the revisit's 4
    assert (results["M-SURVEY-SAMPLE"]["numerator"], results["M-SURVEY-SAMPLE"]["denominator"]) == (
        1,
        1,
    )


async def test_the_survey_pages_are_rate_limited_per_address(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    reporting = Reporting(engine, clock, CST)
    app = create_reporting_app(engine, reporting, KEYS, survey_secret=SECRET)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://r"
    ) as web:
        answers = [(await web.get("/surveys/guess")).status_code for _ in range(60)]
        assert set(answers) == {410}
        assert (await web.get("/surveys/guess")).status_code == 429
        refused = await web.post("/surveys/guess", json={})
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
