"""One indicator's answer: value, numerator, denominator, target and whether it was met,
with the cases that count against it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Comparison = Literal["at_least", "at_most", "reported"]


@dataclass(frozen=True)
class Result:
    kpi: str
    value: float | None
    numerator: float
    denominator: int
    target: float | None
    comparison: Comparison
    unit: str
    tickets: tuple[str, ...]
    """The cases that count against it (a miss), for the reader to open."""

    @property
    def met(self) -> bool | None:
        if self.value is None or self.target is None or self.comparison == "reported":
            return None
        if self.comparison == "at_least":
            return self.value >= self.target
        return self.value <= self.target
