"""``aftercare report``: the indicators of a period as CSV (one row per period, slice and
indicator), straight from the reporting projection's tables; with ``--publish FILE``,
the period's full report, published as the service would and written to FILE."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from aftercare.clock import SystemClock
from aftercare.db import create_engine
from aftercare.instants import to_utc
from aftercare_reporting.adapters.report_files import kpi_csv
from aftercare_reporting.domain.periods import Period, Slice
from aftercare_reporting.service_layer.projection import Reporting
from aftercare_reporting.settings import ReportingSettings


def instant(text: str, zone: ZoneInfo) -> datetime:
    """An RFC 3339 instant, or a date (its 00:00 in the desk's zone)."""
    moment = datetime.fromisoformat(text)
    return to_utc(moment if moment.tzinfo else moment.replace(tzinfo=zone))


def period_of(start: str, end: str, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """``--from`` and ``--to`` as instants; exits when the period is empty."""
    begin, until = instant(start, zone), instant(end, zone)
    if until <= begin:
        raise SystemExit("aftercare report: --to must lie after --from")
    return begin, until


async def report_command(
    settings: ReportingSettings,
    start: str,
    end: str,
    period: Period,
    by: Slice | None,
    out: TextIO = sys.stdout,
) -> int:
    zone = ZoneInfo(settings.sla_timezone)
    begin, until = period_of(start, end, zone)
    engine = create_engine(settings.database_url)
    try:
        rows = await Reporting(engine, SystemClock(), zone).kpis(begin, until, period, by)
    finally:
        await engine.dispose()
    out.write(kpi_csv(rows))
    return 0


async def publish_command(
    settings: ReportingSettings, start: str, end: str, path: Path, language: str
) -> tuple[str, bytes]:
    """Publish the period's report; its id and the file in ``path``'s format."""
    from aftercare_reporting.adapters import publications
    from aftercare_reporting.adapters.report_pdf import cjk_font
    from aftercare_reporting.service_layer.publishing import ReportPublisher

    format_ = path.suffix.lstrip(".").lower()
    if format_ not in publications.MEDIA_TYPES:
        raise SystemExit("aftercare report --publish: FILE ends in .pdf, .xlsx, .html or .csv")
    zone = ZoneInfo(settings.sla_timezone)
    begin, until = period_of(start, end, zone)
    engine = create_engine(settings.database_url)
    try:
        reporting = Reporting(engine, SystemClock(), zone)
        publisher = ReportPublisher(reporting, cjk_font(settings.report_font))
        made = await publisher.publish("on_demand", begin, until, language, "command line")
        found = (
            None
            if made is None
            else await publications.document(engine, made.publication_id, format_)
        )
    finally:
        await engine.dispose()
    if made is None or found is None:
        raise SystemExit("aftercare report: the report was not published")
    return made.publication_id, found[0]
