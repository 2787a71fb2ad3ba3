"""``aftercare report``: the indicators of a period as CSV (one row per period, slice and
indicator), straight from the reporting projection's tables."""

from __future__ import annotations

import sys
from datetime import datetime
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


async def report_command(
    settings: ReportingSettings,
    start: str,
    end: str,
    period: Period,
    by: Slice | None,
    out: TextIO = sys.stdout,
) -> int:
    zone = ZoneInfo(settings.sla_timezone)
    begin, until = instant(start, zone), instant(end, zone)
    if until <= begin:
        raise SystemExit("aftercare report: --to must lie after --from")
    engine = create_engine(settings.database_url)
    try:
        rows = await Reporting(engine, SystemClock(), zone).kpis(begin, until, period, by)
    finally:
        await engine.dispose()
    out.write(kpi_csv(rows))
    return 0
