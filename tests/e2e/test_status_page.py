"""The customer's status page over ASGI on both databases: what a customer may see (and
what stays internal), the survey once closed, links that are wrong, expired or revoked,
and the rate limit on the public path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.clock import FixedClock
from aftercare.customer_links import StatusLinks
from aftercare.tokens import verify
from aftercare_system.settings import SystemSettings
from aftercare_ticket.entrypoints.app import create_app
from tests.e2e.conftest import KEYS, auth
from tests.e2e.test_console_pages import HOSTILE
from tests.support.ticket_api import complaint, expected_time

SETTINGS = SystemSettings(
    api_keys=",".join(f"{role}-key:{key}={role}" for role, key in KEYS.items()), sla_port=1
)


@pytest.fixture
async def desk(engine: AsyncEngine, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(SETTINGS, engine=engine, clock=clock)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://desk.test", headers=auth("admin")
    ) as client:
        yield client


def link_path(clock: FixedClock, ticket_id: str, language: str = "en") -> str:
    """The path of the link the notifier puts in the customer's e-mail."""
    links = StatusLinks(SETTINGS.status_secret, "http://desk.test", clock)
    return links.for_ticket(ticket_id, language).removeprefix("http://desk.test")


async def worked(desk: httpx.AsyncClient, clock: FixedClock) -> str:
    """A complaint accepted with a plan, diagnosed (findings stay internal), assigned to
    a named engineer and updated: what the customer may see of it is the point."""
    raised = await desk.post("/tickets", json=complaint(description=HOSTILE, subject="Wafers"))
    ticket: str = raised.json()["id"]
    steps = [
        ("acknowledge", {"plan": "Ship replacements", "expected_resolution_at":
                         expected_time(clock), "complaint_grade": "general"}),
        ("assign", {"assignee": "Engineer Zhang Wei", "team": "tier-2"}),
        ("escalate", {"level": "team_lead", "reason": "internal: customer is a key account"}),
        ("diagnose", {"findings": "internal: packaging line 3 misconfigured", "method": "remote"}),
        ("report-progress", {"message": "Replacements leave the warehouse today"}),
    ]  # fmt: skip
    for command, body in steps:
        answer = await desk.post(f"/tickets/{ticket}/{command}", json=body)
        assert answer.status_code == 200, (command, answer.text)
    return ticket


async def test_the_customer_sees_progress_and_nothing_internal(
    desk: httpx.AsyncClient, clock: FixedClock
) -> None:
    ticket = await worked(desk, clock)
    page = await desk.get(link_path(clock, ticket), headers={})
    assert page.status_code == 200
    text = page.text
    assert "diagnosed; the fix is under way" in text
    assert "Ship replacements" in text
    assert "Replacements leave the warehouse today" in text
    for internal in ("packaging line 3", "Zhang Wei", "tier-2", "key account", "T-PROGRESS",
                     "li.na@example.com", "+86 138", "李娜", "admin-key"):  # fmt: skip
        assert internal not in text, internal
    assert "<script>alert" not in text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    chinese = await desk.get(link_path(clock, ticket, "zh-CN"), headers={})
    assert "已诊断，正在解决" in chinese.text


async def test_a_closed_request_offers_the_survey(
    desk: httpx.AsyncClient, clock: FixedClock
) -> None:
    ticket = await worked(desk, clock)
    for command, body in (
        ("resolve", {"solution": "Shipped two boxes", "verification":
                     {"method": "photos", "result": "no scratches", "passed": True}}),
        ("revisit", {"satisfaction": 5}),
    ):  # fmt: skip
        assert (await desk.post(f"/tickets/{ticket}/{command}", json=body)).status_code == 200
    page = await desk.get(link_path(clock, ticket), headers={})
    assert "closed" in page.text
    assert 'id="survey"' in page.text
    token = page.text.split(f"{SETTINGS.survey_url}/surveys/", 1)[1].split('"', 1)[0]
    claims = verify(SETTINGS.survey_secret, token, clock.now())  # what reporting checks
    assert claims["ticket"] == ticket


async def test_wrong_expired_and_revoked_links_get_a_plain_page(
    desk: httpx.AsyncClient, clock: FixedClock
) -> None:
    ticket = await worked(desk, clock)
    path = link_path(clock, ticket)
    for wrong in ("/status/nonsense", path[:-4] + "abcd", "/status/" + "x" * 3000):
        answer = await desk.get(wrong, headers={})
        assert answer.status_code == 404, wrong
        assert "not valid any more" in answer.text or "已失效" in answer.text
        assert "Traceback" not in answer.text
    reader = await desk.post(f"/tickets/{ticket}/status-links/revoke", headers=auth("reader"))
    assert reader.status_code == 403
    revoked = await desk.post(f"/tickets/{ticket}/status-links/revoke", headers=auth("engineer"))
    assert revoked.status_code == 200, revoked.text
    assert (await desk.get(path, headers={})).status_code == 404
    clock.advance(timedelta(seconds=1))
    fresh = link_path(clock, ticket)  # the next update's link works
    assert (await desk.get(fresh, headers={})).status_code == 200
    clock.advance(timedelta(days=31))
    assert (await desk.get(fresh, headers={})).status_code == 404  # expired
    missing = await desk.post("/tickets/nope/status-links/revoke", headers=auth("engineer"))
    assert missing.status_code == 404


async def test_the_public_page_is_rate_limited_per_address(
    desk: httpx.AsyncClient, clock: FixedClock
) -> None:
    answers = [(await desk.get("/status/guess", headers={})).status_code for _ in range(61)]
    assert answers[:60] == [404] * 60
    assert answers[60] == 429
