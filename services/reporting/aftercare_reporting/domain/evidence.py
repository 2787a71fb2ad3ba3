"""What the event log can evidence of the self-assessment: for the indicators whose
practice the system records (complaints, repairs, spare parts, warranty, returns,
surveys, channels, supervision by targets), a suggested share computed from the
indicators of the assessed period, with the figures and the cases behind them. The
assessor confirms or overrides it; the rest of the catalogue is theirs to rate.

A suggestion is the mean attainment of its indicators: for a target to reach,
min(1, value ÷ target); for a ceiling, min(1, ceiling ÷ value) (1 at zero); for a
reported attainment (M-SLA/…), value ÷ 100."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aftercare_reporting.domain.results import Result

EVIDENCE: Mapping[str, tuple[str, ...]] = {
    "B13": ("M-SLA/T-WARRANTY-CONTACT", "M-SLA/T-REPAIR-NOTIFY"),
    "B14": ("M-ONSITE-PUNCTUAL", "M-REPEAT", "M-SLA/T-ONSITE", "M-SLA/T-RESOLVE-GENERAL"),
    "B16": ("M-SPARES",),
    "B20": ("M-SLA/T-RETURN-REVIEW", "M-SLA/T-RETURN-REFUND", "M-SLA/T-EXCHANGE-SHIP"),
    "C1": ("M-CHANNELS", "M-RESPONSE-RATE"),
    "C4": ("M-SURVEY-SAMPLE", "M-CSAT"),
    "C6": ("M-COMPLAINT-24H",),
    "C7": (
        "M-COMPLAINT-24H",
        "M-COMPLAINT-SAT",
        "M-SLA/T-COMPLAINT-CONTACT",
        "M-SLA/T-COMPLAINT-GENERAL",
    ),
    "A11": ("M-FCR", "M-RESOLVED", "M-PROGRESS", "M-CSAT"),
}


@dataclass(frozen=True)
class Suggestion:
    code: str
    share: float
    figures: tuple[Result, ...]
    """The indicators it was computed from, as the period showed them."""

    @property
    def tickets(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t for r in self.figures for t in r.tickets))


def attainment(result: Result) -> float | None:
    value, target = result.value, result.target
    if value is None:
        return None
    if result.comparison == "reported" or target is None:
        return min(1.0, max(0.0, value / 100))
    if result.comparison == "at_most":
        return 1.0 if value <= 0 else min(1.0, target / value)
    return min(1.0, value / target) if target > 0 else 1.0


def suggest(results: Mapping[str, Result]) -> dict[str, Suggestion]:
    """A suggested share for each indicator the period's figures can speak to."""
    suggestions = {}
    for code, kpis in EVIDENCE.items():
        figures = tuple(results[k] for k in kpis if k in results and results[k].value is not None)
        shares = [a for a in map(attainment, figures) if a is not None]
        if shares:
            share = round(100 * sum(shares) / len(shares), 1)
            suggestions[code] = Suggestion(code, share, figures)
    return suggestions
