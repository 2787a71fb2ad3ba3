"""Data quality before any figure (Q §七 数据质量控制): cases that break a validation rule
are set aside with the reason (the cleaning log), and resolution times more than three
standard deviations from the period's mean are flagged for review (M-OUTLIER) — still
counted, but listed, so a reader sees what may distort an average."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean, pstdev

from aftercare_reporting.domain.cases import Case
from aftercare_reporting.domain.results import Result


@dataclass(frozen=True)
class Issue:
    ticket_id: str
    rule: str
    detail: str


def _issues(case: Case) -> list[Issue]:
    found = []
    if not case.kind or not case.channel or case.requested_at is None:
        found.append(Issue(case.ticket_id, "B-TIME-ORDER", "a required field is missing"))
    if case.requested_at and case.acknowledged_at and case.acknowledged_at < case.requested_at:
        found.append(Issue(case.ticket_id, "B-TIME-ORDER", "acknowledged before it was requested"))
    if case.requested_at and case.first_resolved_at and case.first_resolved_at < case.requested_at:
        found.append(Issue(case.ticket_id, "B-TIME-ORDER", "resolved before it was requested"))
    if case.satisfaction is not None and not 1 <= case.satisfaction <= 5:
        found.append(
            Issue(case.ticket_id, "B-SATISFACTION", f"score {case.satisfaction} is not 1–5")
        )
    return found


def clean(cases: Sequence[Case]) -> tuple[list[Case], list[Issue]]:
    """The cases fit to count, and the cleaning log of those set aside."""
    kept, log = [], []
    for case in cases:
        issues = _issues(case)
        if issues:
            log += issues
        else:
            kept.append(case)
    return kept, log


def outliers(cases: Sequence[Case]) -> Result:
    """M-OUTLIER: resolution times with |z| > 3 (needs at least three resolved cases)."""
    hours = {
        c.ticket_id: (c.first_resolved_at - c.requested_at).total_seconds() / 3600
        for c in cases
        if c.first_resolved_at is not None and c.requested_at is not None
    }
    flagged: tuple[str, ...] = ()
    if len(hours) >= 3:
        mean, spread = fmean(hours.values()), pstdev(hours.values())
        if spread > 0:
            flagged = tuple(t for t, h in hours.items() if abs(h - mean) / spread > 3)
    return Result(
        "M-OUTLIER",
        float(len(flagged)),
        len(flagged),
        len(hours),
        None,
        "reported",
        "cases",
        flagged,
    )
