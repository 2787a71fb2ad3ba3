"""Periods and slices: the cases of each period (day, week, month, quarter, year, in the
desk's time zone) and of each value of a slice (kind, priority, channel, region,
assignee, product model, customer), each with its indicators."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Literal

from aftercare_reporting.domain.cases import Case
from aftercare_reporting.domain.kpis import compute
from aftercare_reporting.domain.quality import Issue, clean, outliers
from aftercare_reporting.domain.results import Result

Period = Literal["day", "week", "month", "quarter", "year", "all"]
PERIODS: tuple[Period, ...] = ("day", "week", "month", "quarter", "year", "all")
Slice = Literal["kind", "priority", "channel", "region", "assignee", "model", "customer"]
SLICES: tuple[Slice, ...] = (
    "kind",
    "priority",
    "channel",
    "region",
    "assignee",
    "model",
    "customer",
)


def _start_of(day: date, period: Period) -> date:
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    if period == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    if period == "year":
        return day.replace(month=1, day=1)
    return day


def _next(start: date, period: Period) -> date:
    if period == "day":
        return start + timedelta(days=1)
    if period == "week":
        return start + timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[period]
    month = start.month - 1 + months
    return date(start.year + month // 12, month % 12 + 1, 1)


def windows(
    start: datetime, end: datetime, period: Period, zone: tzinfo
) -> Iterator[tuple[datetime, datetime]]:
    """The periods that cover [start, end), in local time, cut to that range."""
    if period == "all":
        yield start, end
        return
    day = _start_of(start.astimezone(zone).date(), period)
    while (begin := datetime.combine(day, time(0), zone)) < end:
        following = _next(day, period)
        yield max(begin, start), min(datetime.combine(following, time(0), zone), end)
        day = following


def slice_of(case: Case, by: Slice | None) -> str:
    if by is None:
        return "all"
    value = {
        "kind": case.kind,
        "priority": case.priority,
        "channel": case.channel,
        "region": case.region,
        "assignee": case.assignee,
        "model": case.model,
        "customer": case.customer_ref,
    }[by]
    return value or "unknown"


@dataclass(frozen=True)
class Row:
    start: datetime
    end: datetime
    slice: str
    cases: int
    results: list[Result]
    set_aside: list[Issue]
    """The cleaning log: cases left out of the figures, and why."""


def tabulate(
    cases: Sequence[Case],
    start: datetime,
    end: datetime,
    period: Period,
    by: Slice | None,
    zone: tzinfo,
) -> list[Row]:
    """Each period's (and slice's) indicators over the cases raised in it."""
    rows = []
    for begin, until in windows(start, end, period, zone):
        raised = [
            c for c in cases if c.requested_at is not None and begin <= c.requested_at < until
        ]
        for value in sorted({slice_of(c, by) for c in raised} or {"all"}):
            chosen, log = clean([c for c in raised if slice_of(c, by) == value])
            results = [*compute(chosen), outliers(chosen)]
            rows.append(Row(begin, until, value, len(chosen), results, log))
    return rows
