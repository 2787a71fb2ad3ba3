"""Reports published by the running reporting service (Q §七), on SQLite and PostgreSQL:
a quarter's cases walked through the real ticket API, the quarterly report published by
itself on the business calendar (injected clock) as HTML, PDF (Chinese read back from
the embedded font), XLSX and CSV, stored, listed, downloaded, announced by e-mail and
recorded as an event; and a report on demand, the same figures whenever regenerated."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.clock import FixedClock
from aftercare_reporting.adapters.report_pdf import cjk_font, report_pdf
from aftercare_reporting.adapters.report_words import WORDS
from aftercare_reporting.entrypoints.app import create_reporting_app
from aftercare_reporting.entrypoints.service import ReportingService
from aftercare_reporting.settings import ReportingSettings
from aftercare_ticket.examples import raise_body, sample
from tests.e2e.test_kpis import KEYS, project
from tests.support.event_log import every_event
from tests.support.receivers import smtp_sink
from tests.support.sla_scenarios import CST

BOSS = {"Authorization": "Bearer boss"}
RAISED = datetime(2026, 3, 10, 10, 0, tzinfo=CST)


async def raise_case(
    api: httpx.AsyncClient, clock: FixedClock, region: str, ack_after: float, rating: int
) -> str:
    clock.set(RAISED)
    body = raise_body(region=region).model_dump(mode="json")
    body["requested_at"] = RAISED.isoformat()
    raised = await api.post("/tickets", json=body)
    assert raised.status_code == 201, raised.text
    ticket = str(raised.json()["id"])
    acknowledge = sample("acknowledge").model_dump(mode="json", exclude_none=True)
    expected = (RAISED + timedelta(days=2)).isoformat()
    steps: list[tuple[float, str, dict[str, Any]]] = [
        (ack_after, "acknowledge", {**acknowledge, "expected_resolution_at": expected}),
        (30, "diagnose", sample("diagnose").model_dump(mode="json", exclude_none=True)),
        (60, "resolve", sample("resolve").model_dump(mode="json", exclude_none=True)),
        (70, "revisit", {"satisfaction": rating}),
    ]
    for minutes, name, command in steps:
        clock.set(RAISED + timedelta(minutes=minutes))
        answer = await api.post(f"/tickets/{ticket}/{name}", json=command)
        assert answer.status_code == 200, answer.text
    return ticket


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


async def test_the_quarterly_report_comes_out_by_itself(
    api: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    quick = await raise_case(api, clock, "华东", ack_after=1, rating=5)  # phone, 1 min
    slow = await raise_case(api, clock, "华北", ack_after=20, rating=2)  # 20 min of 3
    async with smtp_sink() as sink:
        monkeypatch.setenv("AFTERCARE_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("AFTERCARE_SMTP_PORT", str(sink.port))
        monkeypatch.setenv("AFTERCARE_SMTP_STARTTLS", "false")
        settings = ReportingSettings(reporting_report_email="quality@example.com")
        service = ReportingService(settings, engine, "127.0.0.1:1", clock=clock, serve_http=False)
        clock.set(datetime(2026, 4, 1, 9, 0, tzinfo=CST))
        await project(engine, service.reporting)
        await service.refresh_once()  # the 1st working day: not yet (the 5th is due)
        before = await service.publisher.publish_due(service.schedule)
        clock.set(datetime(2026, 4, 20, 9, 0, tzinfo=CST))
        await service.refresh_once()  # within 15 working days: published
        await service.refresh_once()  # once
        mails = list(sink.messages)
        await service.stop()
    assert before == []
    app = create_reporting_app(engine, service.reporting, KEYS, publisher=service.publisher)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://r", headers=BOSS) as client:
        listed = (await client.get("/reports")).json()
        [report] = listed
        base = f"/reports/{report['publication_id']}"
        pdf = await client.get(f"{base}.pdf")
        xlsx = await client.get(f"{base}.xlsx")
        html = await client.get(f"{base}.html")
        csv = await client.get(f"{base}.csv")
        missing = await client.get("/reports/" + "0" * 32 + ".pdf")
        nobody = await client.get(f"{base}.pdf", headers={"Authorization": "Bearer look"})

    assert (report["cadence"], report["language"]) == ("quarterly", "zh-CN")
    assert report["period_start"] == "2025-12-31T16:00:00Z"  # 1 January, 00:00 in +08:00
    assert set(report["files"]) == {"html", "pdf", "xlsx", "csv"}
    assert pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content)
    for heading in (
        "售后服务质量季度报告",
        "执行摘要",
        "主要发现",
        "趋势",
        "区域热力图",
        "改进建议",
    ):
        assert heading in text, heading
    assert "受理案件: 2" in text
    assert "M-RESPONSE-RATE" in text and "50.0 %" in text  # noqa: PT018 - one line of the PDF
    assert "华东" in text and "华北" in text  # noqa: PT018
    book = load_workbook(io.BytesIO(xlsx.content))
    assert "执行摘要" in book.sheetnames and "区域热力图（目标达成度）" in book.sheetnames  # noqa: PT018
    summary = {row[0]: row for row in book["执行摘要"].iter_rows(values_only=True) if row}
    assert summary["M-RESPONSE-RATE"][1:4] == (50.0, 1, 2)
    assert "<svg" in html.text and "<script" not in html.text  # noqa: PT018
    assert "M-FCR" in csv.text
    assert missing.status_code == 404 and nobody.status_code == 403  # noqa: PT018
    [(to, mail)] = mails
    assert to == ["quality@example.com"]
    assert "售后服务质量季度报告" in str(mail["Subject"])
    assert f"{base}.pdf" in mail.get_content()
    events = [e for e in await every_event(engine)]
    [published] = [e for e in events if e.type == "ReportPublished"]
    assert published.data["files"]["pdf"]["size"] == len(pdf.content)
    assert quick != slow


async def test_a_report_on_demand_is_the_same_whenever_regenerated(
    api: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock
) -> None:
    await raise_case(api, clock, "华南", ack_after=2, rating=4)
    settings = ReportingSettings()
    service = ReportingService(settings, engine, "127.0.0.1:1", clock=clock, serve_http=False)
    clock.set(datetime(2026, 4, 1, 9, 0, tzinfo=CST))
    await project(engine, service.reporting)
    app = create_reporting_app(engine, service.reporting, KEYS, publisher=service.publisher)
    transport = httpx.ASGITransport(app=app)
    period = {"start": "2026-03-01T00:00:00+08:00", "end": "2026-04-01T00:00:00+08:00"}
    async with httpx.AsyncClient(transport=transport, base_url="http://r", headers=BOSS) as client:
        made = await client.post("/reports", json={**period, "language": "en"})
        empty = await client.post("/reports", json={**period, "end": period["start"]})
        hostile = await client.post("/reports", json={**period, "format": "exe"})
        english = await client.get(f"{made.headers['Location']}.pdf")
    assert made.status_code == 201, made.text
    assert empty.status_code == 422 and hostile.status_code == 422  # noqa: PT018
    assert "Service quality report" in pdf_text(english.content)
    start, end = (datetime.fromisoformat(v) for v in period.values())
    as_of = clock.now()
    first, first_csv = await service.publisher.content("on_demand", start, end, as_of)
    clock.set(datetime(2026, 6, 1, 9, 0, tzinfo=CST))  # later, more recorded since
    await raise_case(api, clock, "华南", ack_after=1, rating=5)
    clock.set(datetime(2026, 6, 1, 9, 0, tzinfo=CST))
    await project(engine, service.reporting)
    again, again_csv = await service.publisher.content("on_demand", start, end, as_of)
    assert first_csv == again_csv
    words, font = WORDS["zh-CN"], cjk_font()
    assert report_pdf(first, words, "t", font) == report_pdf(again, words, "t", font)
    await service.stop()


async def test_the_report_command_publishes_a_pdf(
    api: httpx.AsyncClient,
    engine: AsyncEngine,
    clock: FixedClock,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    """The README's second command: this quarter's report as a file, and listed."""
    from aftercare_reporting.adapters import publications
    from aftercare_system.report import publish_command

    await raise_case(api, clock, "华东", ack_after=1, rating=5)
    settings = ReportingSettings()
    service = ReportingService(settings, engine, "127.0.0.1:1", clock=clock, serve_http=False)
    await project(engine, service.reporting)
    await service.stop()
    monkeypatch.setenv("DATABASE_URL", database_url)
    published, content = await publish_command(
        ReportingSettings(), "2026-01-01", "2026-04-01", tmp_path / "q1.pdf", "zh-CN"
    )
    assert "受理案件: 1" in pdf_text(content)
    [listed] = await publications.listing(engine, 10)
    assert (listed["publication_id"], listed["requested_by"]) == (published, "command line")
    with pytest.raises(SystemExit):
        await publish_command(
            ReportingSettings(), "2026-01-01", "2026-04-01", tmp_path / "x.doc", "en"
        )
