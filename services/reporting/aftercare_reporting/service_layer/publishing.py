"""Publishing reports (Q §七): the content of a period computed once from its cases,
laid out as HTML, PDF, XLSX and CSV, stored with a ``ReportPublished`` event, and
announced to the configured recipients with the links to download each file. The
quarterly and annual reports come out by themselves on the business calendar."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

import structlog

from aftercare.business_calendar import BusinessCalendar
from aftercare.channels import Channel, Message
from aftercare_reporting.adapters import publications, store
from aftercare_reporting.adapters.publications import Publication
from aftercare_reporting.adapters.report_files import kpi_csv
from aftercare_reporting.adapters.report_html import report_html
from aftercare_reporting.adapters.report_pdf import report_pdf
from aftercare_reporting.adapters.report_words import ADVICE, WORDS
from aftercare_reporting.adapters.report_xlsx import report_xlsx
from aftercare_reporting.domain.defects import defect_groups
from aftercare_reporting.domain.kpis import DEFINITIONS
from aftercare_reporting.domain.periods import Period, Row, tabulate
from aftercare_reporting.domain.report_content import COMPARED_BY, ReportContent, build
from aftercare_reporting.domain.schedule import Cadence, DuePeriod, due
from aftercare_reporting.service_layer.projection import Reporting

log = structlog.get_logger(__name__)
_IDS = uuid.UUID("6f1d2c1e-8a4b-4f7e-9a51-0c2f6a3e9b77")
TREND: dict[str, tuple[Period, str]] = {
    "annual": ("month", "%Y-%m"),
    "quarterly": ("week", "%m-%d"),
    "on_demand": ("month", "%Y-%m"),
}


@dataclass(frozen=True)
class Schedule:
    calendar: BusinessCalendar
    quarterly_after: int
    annual_after: int
    language: str


class ReportPublisher:
    def __init__(
        self,
        reporting: Reporting,
        font: Path,
        recipients: Sequence[Channel] = (),
        base_url: str = "",
    ) -> None:
        self.reporting = reporting
        self.font = font
        self.recipients = list(recipients)
        self.base_url = base_url.rstrip("/")

    async def content(
        self,
        cadence: str,
        start: datetime,
        end: datetime,
        as_of: datetime,
        language: str = "zh-CN",
    ) -> tuple[ReportContent, str]:
        """The report's content and its CSV, from the cases raised in [start, end) as
        recorded by ``as_of``, loaded once and tabulated every way the report needs."""
        zone = self.reporting.zone
        cases = await store.cases_raised(self.reporting.engine, start, end, as_of)
        [overall] = tabulate(cases, start, end, "all", None, zone)
        step, label = TREND.get(cadence, TREND["on_demand"])
        trend = tabulate(cases, start, end, step, None, zone)
        comparisons: dict[str, list[Row]] = {
            by: tabulate(cases, start, end, "all", by, zone) for by in COMPARED_BY
        }
        local_end = (end - timedelta(microseconds=1)).astimezone(zone).date()
        period = f"{start.astimezone(zone).date()} – {local_end}"
        content = build(
            title_period=period,
            start=start,
            end=end,
            as_of=as_of,
            definitions=DEFINITIONS,
            overall=overall,
            trend=trend,
            trend_label=label,
            comparisons=comparisons,
            defects=defect_groups(cases),
            advice=ADVICE.get(language, ADVICE["zh-CN"]),
            annual=cadence == "annual",
        )
        every_row = [overall, *trend, *(row for rows in comparisons.values() for row in rows)]
        return content, kpi_csv(every_row)

    async def publish(
        self,
        cadence: str,
        start: datetime,
        end: datetime,
        language: str,
        requested_by: str,
        publication_id: str | None = None,
    ) -> Publication | None:
        """Publish the period's report; None if this publication exists already."""
        now = self.reporting.clock.now()
        # The cut-off is the moment of publication: everything recorded by then, late
        # revisits and surveys included; the same cut-off always gives the same figures.
        content, csv_text = await self.content(cadence, start, end, now, language)
        words = WORDS.get(language, WORDS["zh-CN"])
        title = words.get(cadence, words["title"])
        files = {
            "html": report_html(content, words, title, language).encode(),
            "pdf": report_pdf(content, words, title, self.font),
            "xlsx": report_xlsx(content, words, title),
            "csv": csv_text.encode(),
        }
        publication = Publication(
            publication_id=publication_id or uuid.uuid4().hex,
            cadence=cadence,
            period_start=start,
            period_end=end,
            as_of=now,
            language=language,
            title=title,
            requested_by=requested_by[:100],
            created_at=now,
        )
        if not await publications.store_publication(self.reporting.engine, publication, files):
            return None
        log.info("report published", id=publication.publication_id, cadence=cadence)
        await self._announce(publication, content)
        return publication

    async def publish_due(self, schedule: Schedule) -> list[Publication]:
        """The quarterly and annual reports due now and not published yet."""
        now = self.reporting.clock.now()
        published = []
        plan: tuple[tuple[Cadence, int], ...] = (
            ("quarterly", schedule.quarterly_after),
            ("annual", schedule.annual_after),
        )
        for cadence, after in plan:
            period = due(cadence, now, schedule.calendar, after)
            if period is None:
                continue
            start, end = self._bounds(period)
            made = await self.publish(
                cadence,
                start,
                end,
                schedule.language,
                "schedule",
                _scheduled_id(period, schedule.language),
            )
            if made is not None:
                published.append(made)
        return published

    def _bounds(self, period: DuePeriod) -> tuple[datetime, datetime]:
        zone = self.reporting.zone
        return (
            datetime.combine(period.first_day, time(0), zone),
            datetime.combine(period.end_day, time(0), zone),
        )

    async def _announce(self, publication: Publication, content: ReportContent) -> None:
        links = {
            f: f"{self.base_url}/reports/{publication.publication_id}.{f}"
            for f in publications.MEDIA_TYPES
        }
        missed = ", ".join(f.kpi for f in content.findings) or "-"
        text = (
            f"{publication.title}: {content.title_period}\n"
            f"Cases: {content.cases}. Targets missed: {missed}.\n"
            + "".join(f"{format_.upper()}: {url}\n" for format_, url in links.items())
        )
        message = Message(
            id=f"report-{publication.publication_id}",
            subject=f"{publication.title} {content.title_period}",
            text=text,
            document={
                "type": "report.published",
                "id": publication.publication_id,
                "links": links,
            },
            language=publication.language,
        )
        for channel in self.recipients:
            try:
                await channel.send(message)
            except Exception as error:  # one recipient down never stops the others
                log.error("report not announced", channel=channel.kind, error=repr(error))


def _scheduled_id(period: DuePeriod, language: str) -> str:
    key = f"{period.cadence}/{period.first_day}/{period.end_day}/{language}"
    return uuid.uuid5(_IDS, key).hex
