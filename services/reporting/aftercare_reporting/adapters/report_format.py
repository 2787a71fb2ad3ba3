"""How the formats write a figure, so the HTML, PDF, XLSX and CSV of one report agree."""

from __future__ import annotations

from aftercare_reporting.domain.results import Result


def figure(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value:.1f}"
    return f"{text} {unit}".strip() if unit and unit != "%" else f"{text}{' %' if unit else ''}"


def target(result: Result) -> str:
    if result.target is None:
        return "—"
    sign = "≥" if result.comparison == "at_least" else "≤"
    return f"{sign} {result.target:g}"


def met(result: Result, words: dict[str, str]) -> str:
    if result.met is None:
        return "—"
    return words["yes"] if result.met else words["no"]
