"""KPI alarms (Q §九): an indicator that misses its target over a trailing window raises
one alarm per episode, and one message when it recovers; a window with too few cases to
judge says nothing either way."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from aftercare_reporting.domain.results import Result

MIN_CASES = 5
"""Fewer cases than this in the window: the rate is noise, no alarm and no recovery."""


@dataclass(frozen=True)
class AlarmChange:
    kpi: str
    change: Literal["raised", "recovered"]
    result: Result

    def headline(self, window_days: int) -> str:
        value = "-" if self.result.value is None else f"{self.result.value:.1f}"
        target = self.result.target
        word = "below" if self.result.comparison == "at_least" else "above"
        if self.change == "raised":
            return (
                f"[KPI ALARM] {self.kpi} {value} {word} its target {target} over {window_days} days"
            )
        return (
            f"[KPI RECOVERED] {self.kpi} {value} meets its target {target} over {window_days} days"
        )


def judge(results: Sequence[Result], alarming: Mapping[str, bool]) -> list[AlarmChange]:
    """The alarms that start or end now, given which indicators were alarming."""
    changes = []
    for result in results:
        if result.met is None or result.denominator < MIN_CASES:
            continue
        was = alarming.get(result.kpi, False)
        if not result.met and not was:
            changes.append(AlarmChange(result.kpi, "raised", result))
        elif result.met and was:
            changes.append(AlarmChange(result.kpi, "recovered", result))
    return changes
