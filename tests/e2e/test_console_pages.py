"""The console's pages over ASGI on both databases, attacked the way a browser page
elsewhere or a hostile ticket would: sign-in and its cookie, CSRF on every form, a
revoked key, open redirects, escaping of hostile text, the security headers, and the
same role rules as the API (contact details, which commands)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from bench.console import open_ticket_rows
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.clock import FixedClock
from aftercare_sla.adapters.tables import sla_tickets, sla_timers
from aftercare_sla.domain.alerting import alert_id
from aftercare_sla.entrypoints.app import create_sla_app
from aftercare_system.settings import SystemSettings
from aftercare_ticket.adapters.tables import ticket_views
from aftercare_ticket.entrypoints.app import create_app
from tests.e2e.conftest import KEYS, auth
from tests.support.ticket_api import complaint, expected_time

HOSTILE = '<script>alert("x")</script> "quoted" \u202eevil\u202c <img src=x onerror=alert(1)>'


def console_app(engine: AsyncEngine, clock: FixedClock, keys: dict[str, str]) -> httpx.AsyncClient:
    settings = SystemSettings(
        api_keys=",".join(f"{role}-key:{key}={role}" for role, key in keys.items()),
        sla_port=1,  # nothing listens: the console shows tickets without clocks
    )
    app = create_app(settings, engine=engine, clock=clock)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://desk.test",
        headers={"Accept-Language": "en-GB,en;q=0.8,zh;q=0.5"},
    )


@pytest.fixture
async def browser(engine: AsyncEngine, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    async with console_app(engine, clock, KEYS) as client:
        yield client


async def signed_in(browser: httpx.AsyncClient, role: str) -> str:
    """Sign in as ``role``; the session's CSRF token (from a page's form)."""
    page = await browser.get("/console/sign-in")
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token is not None
    answer = await browser.post(
        "/console/sign-in", data={"token": token.group(1), "api_key": KEYS[role], "next": ""}
    )
    assert answer.status_code == 303, answer.text
    queue = await browser.get("/console/queue")
    csrf = re.search(r'name="csrf" value="([^"]+)"', queue.text)
    assert csrf is not None
    return csrf.group(1)


async def raised(browser: httpx.AsyncClient, **overrides: object) -> str:
    answer = await browser.post("/tickets", json=complaint(**overrides), headers=auth("admin"))
    assert answer.status_code == 201, answer.text
    ticket_id: str = answer.json()["id"]
    return ticket_id


async def test_a_page_without_a_session_sends_to_sign_in_and_back(
    browser: httpx.AsyncClient,
) -> None:
    answer = await browser.get("/console/queue?kind=repair")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/sign-in?next=/console/queue%3Fkind%3Drepair"
    page = await browser.get("/console/sign-in?next=//evil.example/x")
    assert 'value="/console/queue"' in page.text  # never another site after signing in
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/console" in cookie


async def test_signing_in_needs_the_form_token_and_a_known_key(
    browser: httpx.AsyncClient,
) -> None:
    await browser.get("/console/sign-in")
    forged = await browser.post("/console/sign-in", data={"token": "x" * 32, "api_key": "k"})
    assert forged.status_code == 403  # login CSRF: a form posted from elsewhere
    page = await browser.get("/console/sign-in")
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token is not None
    wrong = await browser.post(
        "/console/sign-in", data={"token": token.group(1), "api_key": "not-a-key"}
    )
    assert wrong.status_code == 401
    assert "not known" in wrong.text
    assert "aftercare_console=" not in wrong.headers.get("set-cookie", "")
    csrf = await signed_in(browser, "engineer")
    session = browser.cookies.get("aftercare_console")
    assert session
    assert KEYS["engineer"] not in session  # the key itself is never kept
    assert csrf


async def test_hostile_ticket_text_is_shown_as_text(browser: httpx.AsyncClient) -> None:
    ticket = await raised(browser, subject=HOSTILE[:190], description=HOSTILE)
    await signed_in(browser, "engineer")
    page = await browser.get(f"/console/tickets/{ticket}")
    assert page.status_code == 200
    assert "<script>alert" not in page.text
    assert "<img src=x" not in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "'unsafe-inline'" not in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["x-frame-options"] == "DENY"
    queue = await browser.get("/console/queue")
    assert "<script>alert" not in queue.text
    assert "clocks are not shown" in queue.text or "暂不显示时限" in queue.text


async def test_a_reader_sees_no_contact_and_no_forms_an_admin_sees_both(
    engine: AsyncEngine, clock: FixedClock, browser: httpx.AsyncClient
) -> None:
    ticket = await raised(browser)
    await signed_in(browser, "reader")
    page = await browser.get(f"/console/tickets/{ticket}?lang=en")
    assert "li.na@example.com" not in page.text
    assert "+86 138" not in page.text
    assert 'class="command"' not in page.text
    assert 'id="no-actions"' in page.text
    async with console_app(engine, clock, KEYS) as admin:
        await signed_in(admin, "admin")
        shown = await admin.get(f"/console/tickets/{ticket}?lang=en")
        assert "li.na@example.com" in shown.text
        assert 'action="/console/tickets/' + ticket + '/acknowledge"' in shown.text


async def test_a_command_form_runs_the_command_and_refusals_name_the_rule(
    browser: httpx.AsyncClient, clock: FixedClock
) -> None:
    ticket = await raised(browser)
    csrf = await signed_in(browser, "engineer")
    path = f"/console/tickets/{ticket}/acknowledge"
    form = {"csrf": csrf, "expected_version": "1", "plan": "Replace the wafers."}
    no_token = await browser.post(path, data={**form, "csrf": "forged"})
    assert no_token.status_code == 403
    missing = await browser.post(path, data=form)  # a complaint needs its grade too
    assert missing.status_code == 422
    assert "expected_resolution_at" in missing.text
    past = {**form, "expected_resolution_at": "2020-01-01T09:00", "complaint_grade": "general"}
    refused = await browser.post(path, data=past)
    assert refused.status_code == 422
    assert "B-TIME-ORDER" in refused.text
    assert "Replace the wafers." in refused.text  # what was typed is kept
    due = expected_time(clock)[:16]
    done = await browser.post(path, data={**past, "expected_resolution_at": due})
    assert done.status_code == 303, done.text
    page = await browser.get(done.headers["location"] + "&lang=en")
    assert 'id="ticket-state">Acknowledged' in page.text
    assert "Replace the wafers." in page.text
    stale = await browser.post(
        f"/console/tickets/{ticket}/diagnose",
        data={"csrf": csrf, "expected_version": "1", "findings": "x", "method": "remote"},
    )
    assert stale.status_code == 409  # the page was out of date: nothing recorded
    history = await browser.get(f"/tickets/{ticket}/events", headers=auth("admin"))
    assert [e["type"] for e in history.json()["events"]][-1] == "Acknowledged"
    assert history.json()["events"][-1]["metadata"]["actor"] == "engineer-key"


async def test_a_removed_key_ends_its_sessions(
    engine: AsyncEngine, clock: FixedClock, browser: httpx.AsyncClient
) -> None:
    await signed_in(browser, "engineer")
    session = browser.cookies.get("aftercare_console")
    fewer = {role: key for role, key in KEYS.items() if role != "engineer"}
    async with console_app(engine, clock, fewer) as restarted:
        restarted.cookies.set("aftercare_console", session or "", domain="desk.test")
        answer = await restarted.get("/console/queue")
        assert answer.status_code == 303
        assert "/console/sign-in" in answer.headers["location"]


async def test_the_queue_is_in_deadline_order_with_its_filters(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    """The ticket list and the watcher's clocks on one database; the watcher's API reached
    in-process, as the console reaches it over the network."""
    views, timers, entries = open_ticket_rows(40, clock.now())
    async with engine.begin() as connection:  # the rows the watcher keeps, written directly
        await connection.execute(insert(ticket_views), views)
        await connection.execute(insert(sla_timers), timers)
        await connection.execute(insert(sla_tickets), entries)
    settings = SystemSettings(
        api_keys=",".join(f"{role}-key:{key}={role}" for role, key in KEYS.items()),
        console_api_key=KEYS["reader"],
    )
    sla = httpx.ASGITransport(app=create_sla_app(engine, clock, settings.key_ring))
    app = create_app(settings, engine=engine, clock=clock, sla_transport=sla)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://desk.test",
        headers={"Accept-Language": "en"},
    ) as browser:  # fmt: skip
        await signed_in(browser, "engineer")
        by_deadline = sorted(timers, key=lambda t: (t["deadline"], t["ticket_id"]))
        page = (await browser.get("/console/queue")).text
        shown = re.findall(r'href="/console/tickets/(bench-console-\d+)"', page)
        assert shown == [t["ticket_id"] for t in by_deadline]
        assert '<strong id="queue-total">40</strong>' in page
        high = (await browser.get("/console/queue?priority=high")).text
        shown = re.findall(r'href="/console/tickets/(bench-console-\d+)"', high)
        wanted = {v["id"] for v in views if v["priority"] == "high"}
        assert shown == [t["ticket_id"] for t in by_deadline if t["ticket_id"] in wanted]
        late = (await browser.get("/console/queue?breached=1")).text
        shown = re.findall(r'href="/console/tickets/(bench-console-\d+)"', late)
        assert shown == [t["ticket_id"] for t in by_deadline if t["breached"]]


async def test_alert_acknowledgement_needs_the_form_token_and_an_acting_role(
    engine: AsyncEngine, clock: FixedClock, browser: httpx.AsyncClient
) -> None:
    ticket = await raised(browser)
    path = f"/console/tickets/{ticket}/alerts/{alert_id(ticket, 'T-PHONE', 1)}/acknowledge"
    csrf = await signed_in(browser, "engineer")
    forged = await browser.post(path, data={"csrf": "forged"})
    assert forged.status_code == 403
    away = await browser.post(path, data={"csrf": csrf})  # the watcher does not answer
    assert away.status_code == 303
    assert away.headers["location"].endswith("?alert=not_acknowledged")
    page = await browser.get(away.headers["location"])
    assert "could not be acknowledged" in page.text
    async with console_app(engine, clock, KEYS) as reader:
        token = await signed_in(reader, "reader")
        refused = await reader.post(path, data={"csrf": token})
        assert refused.status_code == 403


async def test_signing_out_ends_the_session(browser: httpx.AsyncClient) -> None:
    csrf = await signed_in(browser, "engineer")
    kept = await browser.post("/console/sign-out", data={"csrf": "forged"})
    assert kept.status_code == 303
    assert (await browser.get("/console/queue")).status_code == 200  # a forged form: no
    out = await browser.post("/console/sign-out", data={"csrf": csrf})
    assert out.status_code == 303
    assert (await browser.get("/console/queue")).status_code == 303


async def test_the_queue_and_the_list_filter_by_region(browser: httpx.AsyncClient) -> None:
    east = await raised(browser, region="华东")
    north = await raised(browser, region="华北")
    listed = await browser.get("/tickets", params={"region": "华东"}, headers=auth("admin"))
    assert [t["id"] for t in listed.json()["items"]] == [east]
    assert listed.json()["items"][0]["region"] == "华东"
    await signed_in(browser, "engineer")
    page = (await browser.get("/console/queue", params={"region": "华北"})).text
    assert f'href="/console/tickets/{north}"' in page
    assert f'href="/console/tickets/{east}"' not in page
