"""The service-quality indicators of Q §六 (T/GXDSL 244—2025), each with a written
definition (docs/kpis.md), computed over the cases raised in a period.

Definitions carry a version (``DEFINITIONS``): a report names the version it was computed
with, and a definition that changes gets a new version instead of rewriting what older
reports said. A case belongs to the period it was raised in, so its figures never move
from one period to another; what a case did after the report's cut-off is not counted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from itertools import pairwise

from aftercare_reporting.domain.attainment import attainment
from aftercare_reporting.domain.cases import Case
from aftercare_reporting.domain.results import Comparison, Result

DEFINITIONS = "2026.1"
"""The version of every definition below."""

RESPONSE_TARGETS = {"phone": timedelta(minutes=3), "email": timedelta(minutes=10)}
"""T-PHONE, T-EMAIL; online and API requests: T-ONLINE's 5 minutes; urgent: 15 (T-URGENT)."""
ONLINE = frozenset({"online", "api"})
PROGRESS_INTERVAL = {True: timedelta(minutes=30), False: timedelta(hours=1)}
"""T-PROGRESS: urgent cases every 30 minutes, the others every hour."""
FIRST_CONTACT_WINDOW = timedelta(hours=24)


def _rate(
    kpi: str,
    cases: Iterable[Case],
    counts: Callable[[Case], bool],
    succeeds: Callable[[Case], bool],
    target: float | None,
    comparison: Comparison = "at_least",
) -> Result:
    judged = [case for case in cases if counts(case)]
    good = [case for case in judged if succeeds(case)]
    value = 100.0 * len(good) / len(judged) if judged else None
    bad = [case.ticket_id for case in judged if not succeeds(case)]
    if comparison == "at_most":  # a "bad" rate (reopens, fees): the cases counted are the misses
        bad = [case.ticket_id for case in good]
    return Result(kpi, value, len(good), len(judged), target, comparison, "%", tuple(bad))


def response_target(case: Case) -> timedelta:
    if case.urgent:
        return timedelta(minutes=15)
    return RESPONSE_TARGETS.get(case.channel, timedelta(minutes=5))


def _responded_within(case: Case, limit: timedelta) -> bool:
    return (
        case.acknowledged_at is not None
        and case.requested_at is not None
        and case.acknowledged_at - case.requested_at <= limit
    )


def _first_contact(case: Case) -> bool:
    """Resolved without going back to the customer: no information asked for, no visit
    booked, no escalation, never reopened, within a day of the request."""
    return (
        case.first_resolved_at is not None
        and case.requested_at is not None
        and case.first_resolved_at - case.requested_at <= FIRST_CONTACT_WINDOW
        and not (case.info_requests or case.visits or case.escalations or case.reopens)
    )


def progress_intervals(case: Case) -> tuple[int, int]:
    """(on time, judged): each interval between the acknowledgement, the updates and the
    end of the open case, against the cadence; waits on the customer are left out."""
    if case.acknowledged_at is None or case.open_until is None:
        return 0, 0
    limit = PROGRESS_INTERVAL[case.urgent]
    marks = [case.acknowledged_at, *(t for t in case.progress_at if t < case.open_until)]
    marks.append(case.open_until)
    on_time = judged = 0
    for start, end in pairwise(marks):
        waited = sum(
            (
                (min(e or end, end) - max(s, start))
                for s, e in case.waits
                if s < end and (e or end) > start
            ),
            timedelta(0),
        )
        judged += 1
        on_time += end - start - waited <= limit
    return on_time, judged


def rating(case: Case) -> int | None:
    """The customer's score: their survey answer, else the revisit's (1–5)."""
    return case.survey_overall if case.survey_overall is not None else case.satisfaction


def _csat(cases: Sequence[Case]) -> Result:
    rated = [c for c in cases if rating(c) is not None]
    scores = [((rating(c) or 1) - 1) / 4 * 100 for c in rated]
    value = sum(scores) / len(scores) if scores else None
    low = tuple(c.ticket_id for c in rated if (rating(c) or 0) <= 3)
    return Result("M-CSAT", value, sum(scores), len(scores), 85.0, "at_least", "0–100", low)


def _mttr(cases: Sequence[Case]) -> Result:
    hours = [
        (c.first_resolved_at - c.requested_at).total_seconds() / 3600
        for c in cases
        if c.first_resolved_at is not None and c.requested_at is not None
    ]
    value = sum(hours) / len(hours) if hours else None
    return Result("M-MTTR", value, sum(hours), len(hours), None, "reported", "h", ())


def _progress(cases: Sequence[Case]) -> Result:
    on_time = judged = 0
    late: list[str] = []
    for case in cases:
        good, total = progress_intervals(case)
        on_time, judged = on_time + good, judged + total
        if good < total:
            late.append(case.ticket_id)
    value = 100.0 * on_time / judged if judged else None
    return Result("M-PROGRESS", value, on_time, judged, 90.0, "at_least", "%", tuple(late))


def _survey_sample(cases: Sequence[Case]) -> Result:
    """M-SURVEY-SAMPLE: survey answers against the customers served (Q §七: at least 5 %
    of customers and 500 answers a year; the share is what a period can show)."""
    customers = {c.customer_ref for c in cases if c.customer_ref}
    answers = sum(1 for c in cases if c.survey_overall is not None)
    value = 100.0 * answers / len(customers) if customers else None
    return Result("M-SURVEY-SAMPLE", value, answers, len(customers), 5.0, "at_least", "%", ())


def _channels(cases: Sequence[Case]) -> Result:
    used = {c.channel for c in cases if c.kind == "complaint"}
    return Result(
        "M-CHANNELS", float(len(used)), len(used), len(used), 3.0, "at_least", "channels", ()
    )


def _answered(case: Case) -> bool:
    """Cases that could be answered: not withdrawn or declined before any acknowledgement."""
    return not case.ended_without_resolution or case.acknowledged_at is not None


def _complaint(case: Case) -> bool:
    return case.kind == "complaint"


def _resolved_completely(case: Case) -> bool:
    unsatisfied = case.satisfaction is not None and case.satisfaction <= 3
    return case.resolved and case.closed and not unsatisfied


@dataclass(frozen=True)
class Rate:
    """A rate indicator: of the cases ``counted``, the share that ``succeeds``."""

    kpi: str
    counted: Callable[[Case], bool]
    succeeds: Callable[[Case], bool]
    target: float | None
    comparison: Comparison = "at_least"


RATES: tuple[Rate, ...] = (
    Rate(
        "M-RESPONSE-RATE",
        _answered,
        lambda c: _responded_within(c, response_target(c)),
        None,
        "reported",
    ),
    Rate(
        "M-ONLINE-30MIN",
        lambda c: _answered(c) and c.channel in ONLINE,
        lambda c: _responded_within(c, timedelta(minutes=30)),
        90.0,
    ),
    Rate("M-FCR", lambda c: c.resolved, _first_contact, 85.0),
    Rate("M-REPEAT", lambda c: c.resolved, lambda c: c.reopens > 0, 5.0, "at_most"),
    Rate(
        "M-RESOLVED",
        lambda c: c.resolved or c.ended_without_resolution,
        _resolved_completely,
        95.0,
    ),
    Rate(
        "M-COMPLAINT-24H",
        _complaint,
        lambda c: _responded_within(c, timedelta(hours=24)),
        100.0,
    ),
    Rate(
        "M-COMPLAINT-SAT",
        lambda c: _complaint(c) and c.satisfaction is not None,
        lambda c: (c.satisfaction or 0) >= 4,
        85.0,
    ),
    Rate(
        "M-ONSITE-PUNCTUAL",
        lambda c: c.appointment_at is not None and c.arrived_at is not None,
        lambda c: _punctual(c),
        95.0,
    ),
    Rate("M-EXTRA-FEE", lambda c: c.kind == "repair", lambda c: c.fee_accepted, 5.0, "at_most"),
)


def compute(cases: Sequence[Case]) -> list[Result]:
    """Every indicator over ``cases`` (the cases of one period and slice)."""
    rates = [_rate(r.kpi, cases, r.counted, r.succeeds, r.target, r.comparison) for r in RATES]
    others = [_progress(cases), _csat(cases), _survey_sample(cases), _mttr(cases)]
    return [*rates, *others, _channels(cases), *attainment(cases)]


def _punctual(case: Case) -> bool:
    """M-ONSITE-PUNCTUAL: arrived within 30 minutes either side of the appointment."""
    if case.appointment_at is None or case.arrived_at is None:
        return False
    return abs(case.arrived_at - case.appointment_at) <= timedelta(minutes=30)
