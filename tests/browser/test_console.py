"""The console as people use it: ``aftercare run`` on free ports (embedded broker, SQLite,
every service), real SMTP, and Debian's Chromium driven by Playwright. An engineer signs
in, finds the breached ticket at the top of the queue, opens it from the alert e-mail,
runs a command through its form and sees the timeline grow, and is shown the rule that
refuses a bad one; a reader sees neither contact details nor forms. Screenshots of each
page, at desktop and phone width, go to ``var/screenshots``."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, ViewportSize, async_playwright

from tests.browser.conftest import CHROMIUM, ENGINEER, READER, ROOT, SUPERVISOR, LiveSystem
from tests.support.kafka import eventually

SHOTS = ROOT / "var" / "screenshots"
PHONE = ViewportSize(width=390, height=844)
DESKTOP = ViewportSize(width=1280, height=900)
HOSTILE = 'Fan <script>alert("x")</script> "quoted" \u202eevil\u202c'


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield launched
        finally:
            await launched.close()


async def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        await page.set_viewport_size(size)
        await page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
    await page.set_viewport_size(DESKTOP)


async def sign_in(page: Page, system: LiveSystem, key: str) -> None:
    await page.goto(f"{system.url}/console/queue?lang=en")
    assert "/console/sign-in" in page.url
    await page.fill("#api_key", key)
    await page.click("button[type=submit]")
    await page.wait_for_url(re.compile(r".*/console/queue.*"))


async def raise_late(system: LiveSystem, subject: str, minutes_ago: int) -> str:
    """A request by e-mail logged after the fact: its T-EMAIL clock started long ago."""
    requested = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()
    body = {
        "kind": "support",
        "channel": "email",
        "customer": {"id": "C-1", "name": "Wang Fang", "email": "wang@example.com",
                     "phone": "+86 138 0000 0001", "language": "en"},
        "subject": subject,
        "description": "The display flickers. " + HOSTILE,
        "requested_at": requested,
    }  # fmt: skip
    async with httpx.AsyncClient(base_url=system.url, timeout=10) as api:
        answer = await api.post(
            "/tickets", json=body, headers={"Authorization": f"Bearer {ENGINEER}"}
        )
        assert answer.status_code == 201, answer.text
        ticket_id: str = answer.json()["id"]
        return ticket_id


async def test_an_engineer_works_a_breached_ticket_from_the_alert(
    live_system: LiveSystem, browser: Browser
) -> None:
    fresh = await raise_late(live_system, "Printer offline", 1)
    late = await raise_late(live_system, "Display flickers", 90)
    await eventually(lambda: bool(live_system.mails_about(late)), within=60, message="alert mail")
    link = re.search(r"(http://\S+/console/tickets/\S+)", live_system.mails_about(late)[0])
    assert link is not None, live_system.mails_about(late)[0]

    page = await browser.new_page(viewport=DESKTOP, locale="en-US")
    await sign_in(page, live_system, ENGINEER)
    await page.wait_for_selector("table.queue")
    first = page.locator("table.queue tbody tr").first
    assert "Display flickers" in await first.inner_text()  # breached: at the top
    assert "breached" in (await first.get_attribute("class") or "")
    assert await page.locator(f"a[href='/console/tickets/{fresh}']").count() == 1
    await shoot(page, "queue")

    await page.goto(link.group(1))
    await page.wait_for_selector("#ticket-subject")
    assert await page.inner_text("#ticket-subject") == "Display flickers"
    description = await page.inner_text("#ticket-description")
    assert '<script>alert("x")</script>' in description  # shown as text, never run
    assert await page.locator("#contact-hidden").count() == 1  # engineers: no contact (P-PII)
    assert "T-EMAIL" in await page.inner_text("#alerts")
    await page.click("#alerts button[type=submit]")
    await page.wait_for_selector("p.ok")
    assert "acknowledged" in await page.inner_text("#alerts")
    assert "Acknowledge" not in await page.inner_text("#alerts")
    await eventually_sent(page)
    before = await page.locator("#timeline li").count()
    await shoot(page, "ticket")

    await refused_naming_the_rule(page)
    await page.fill("#acknowledge-expected_resolution_at", "2030-01-02T17:30")
    await page.click("#command-acknowledge button[type=submit]")
    await page.wait_for_selector(".ok")
    assert await page.inner_text("#ticket-state") == "Acknowledged"
    assert await page.locator("#timeline li").count() == before + 1
    assert "Replace the display cable." in await page.inner_text("#timeline")
    await page.close()


async def eventually_sent(page: Page) -> None:
    """The customer's acknowledgement of receipt, as the notifier reports it."""
    for _ in range(60):
        if await page.locator("#updates").count() and "sent" in await page.inner_text("#updates"):
            return
        await page.wait_for_timeout(500)
        await page.reload()
    raise AssertionError("no customer update shown as sent")


async def refused_naming_the_rule(page: Page) -> None:
    """An expected time before now: the API's problem, shown by the form it came from,
    with what was typed kept."""
    await page.click("#command-acknowledge summary")
    await page.fill("#acknowledge-plan", "Replace the display cable.")
    await page.fill("#acknowledge-expected_resolution_at", "2020-01-02T17:30")
    await page.click("#command-acknowledge button[type=submit]")
    await page.wait_for_selector("#problem")
    problem = await page.inner_text("#problem")
    assert "B-TIME-ORDER" in problem, problem
    assert await page.locator("#command-acknowledge[open]").count() == 1
    assert await page.input_value("#acknowledge-plan") == "Replace the display cable."
    await shoot(page, "refused")


async def test_a_reader_sees_no_contact_details_and_no_forms(
    live_system: LiveSystem, browser: Browser
) -> None:
    ticket = await raise_late(live_system, "Noise from the fan", 5)
    page = await browser.new_page(viewport=PHONE, locale="zh-CN")
    await sign_in(page, live_system, READER)
    await page.goto(f"{live_system.url}/console/tickets/{ticket}?lang=zh-CN")
    await page.wait_for_selector("#ticket-subject")
    assert await page.locator("#contact-hidden").count() == 1
    assert await page.locator("form.command").count() == 0
    assert await page.locator("#no-actions").count() == 1
    assert "处理记录" in await page.content()
    assert "wang@example.com" not in await page.content()
    await shoot(page, "reader-zh")
    await page.close()


async def closed_by_api(system: LiveSystem, ticket: str) -> None:
    due = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    steps = [
        ("acknowledge", {"plan": "Replace the fan", "expected_resolution_at": due}),
        ("diagnose", {"findings": "Bearing worn", "method": "remote"}),
        ("resolve", {"solution": "New fan fitted", "verification":
                     {"method": "Ran for an hour", "result": "Quiet", "passed": True}}),
        ("revisit", {"satisfaction": 5}),
    ]  # fmt: skip
    async with httpx.AsyncClient(base_url=system.url, timeout=10) as api:
        for command, body in steps:
            answer = await api.post(
                f"/tickets/{ticket}/{command}",
                json=body,
                headers={"Authorization": f"Bearer {ENGINEER}"},
            )
            assert answer.status_code == 200, (command, answer.text)


async def test_a_customer_follows_the_request_from_the_email_and_rates_it(
    live_system: LiveSystem, browser: Browser
) -> None:
    ticket = await raise_late(live_system, "Loud fan", 2)
    await closed_by_api(live_system, ticket)
    customer = "wang@example.com"

    def closing_mail() -> list[str]:
        return [m for m in live_system.mails_about(ticket, to=customer) if "closed" in m]

    await eventually(lambda: bool(closing_mail()), within=60, message="the closing e-mail")
    link = re.search(r"Follow your request at any time: (\S+)", closing_mail()[-1])
    assert link is not None, closing_mail()[-1]
    page = await browser.new_page(viewport=PHONE, locale="en-GB")
    await page.goto(link.group(1))
    await page.wait_for_selector("#status-state")
    assert await page.inner_text("#status-state") == "closed"
    timeline = await page.inner_text("#status-timeline")
    assert "Replace the fan" in timeline
    assert "Bearing worn" not in await page.content()  # findings stay internal
    await shoot(page, "status")
    await page.click("#survey a")
    await page.wait_for_selector("form")
    for item in ("attitude", "speed", "solving", "overall"):
        await page.check(f"input[name={item}][value='5']")
    await page.click("button[type=submit]")
    await page.wait_for_selector("text=your answer is recorded")
    await page.goto(f"{live_system.url}/status/forged-token")
    assert "not valid any more" in await page.content() or "已失效" in await page.content()
    await page.close()


async def test_a_supervisor_reads_the_indicators_and_downloads_the_report(
    live_system: LiveSystem, browser: Browser
) -> None:
    ticket = await raise_late(live_system, "Cracked housing", 3)
    await closed_by_api(live_system, ticket)
    page = await browser.new_page(viewport=DESKTOP, locale="en-GB")
    await sign_in(page, live_system, SUPERVISOR)
    for _ in range(60):  # the reporting service folds the events it reads
        await page.goto(f"{live_system.url}/console/dashboard?lang=en")
        if await page.locator("#cases").count() and await page.inner_text("#cases") != "0":
            break
        await page.wait_for_timeout(500)
    assert await page.inner_text("#cases") == "1"
    table = await page.inner_text("#kpis")
    assert "M-RESOLVED" in table
    assert "M-FCR" in table
    await page.goto(f"{live_system.url}/console/dashboard?lang=en&group_by=kind")
    assert "support" in await page.inner_text("#compared")
    await shoot(page, "dashboard")
    async with page.expect_download() as waiting:
        await page.click("a[href^='/console/dashboard/report.csv']")
    download = await waiting.value
    saved = await download.path()
    report = await asyncio.to_thread(Path(saved).read_text, encoding="utf-8")
    assert "M-RESOLVED" in report
    await page.close()
    reader = await browser.new_page(viewport=DESKTOP, locale="en-GB")
    await sign_in(reader, live_system, READER)
    answer = await reader.goto(f"{live_system.url}/console/dashboard")
    assert answer is not None
    assert answer.status == 403
    await reader.close()
