"""A report as one self-contained HTML page (no script, no external asset): the tables,
each trend as an inline SVG line, the heat map as coloured cells."""

from __future__ import annotations

from dataclasses import dataclass

from aftercare_reporting.adapters.report_files import TEMPLATES
from aftercare_reporting.adapters.report_format import figure, met, target
from aftercare_reporting.domain.periods import Row
from aftercare_reporting.domain.report_content import HEAT_KPIS, TREND_KPIS, ReportContent

WIDTH, HEIGHT = 480, 90


@dataclass(frozen=True)
class Trend:
    kpi: str
    points: str
    """The SVG polyline's points, 0–100 upwards."""
    last: str
    target_y: float | None
    """Where the target's dashed line runs, if the indicator has one."""


def _trend(content: ReportContent, kpi: str) -> Trend:
    values = content.trends.get(kpi, [])
    step = WIDTH / max(len(values) - 1, 1)
    points = " ".join(
        f"{n * step:.1f},{HEIGHT - HEIGHT * min(max(v, 0), 100) / 100:.1f}"
        for n, v in enumerate(values)
        if v is not None
    )
    known = [v for v in values if v is not None]
    goal = content.targets.get(kpi)
    level = HEIGHT - HEIGHT * goal / 100 if goal is not None and 0 <= goal <= 100 else None
    return Trend(kpi, points, figure(known[-1]) if known else "—", level)


def value_of(row: Row, kpi: str) -> float | None:
    return next((r.value for r in row.results if r.kpi == kpi), None)


def heat_colour(share: float | None) -> str:
    if share is None:
        return "#f4f4f4"
    red, green = int(255 - 90 * share), int(170 + 80 * share)
    return f"#{red:02x}{green:02x}c8"


def report_html(content: ReportContent, words: dict[str, str], title: str, language: str) -> str:
    return TEMPLATES.get_template("publication.html.j2").render(
        language=language,
        words=words,
        title=title,
        content=content,
        trends=[_trend(content, kpi) for kpi in TREND_KPIS],
        width=WIDTH,
        height=HEIGHT,
        heat_kpis=HEAT_KPIS,
        heat_colour=heat_colour,
        figure=figure,
        target=target,
        met=met,
        value_of=value_of,
    )
