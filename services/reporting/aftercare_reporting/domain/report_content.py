"""What a service-quality report says (Q §七), whatever its format: the executive summary,
the data overview, the findings (which targets were missed, by how much, and where),
the trend of each indicator over the period, comparisons by region, engineer and kind,
a heat map by region, outliers and the cleaning log, the top defects, and a
recommendation for each target missed. Pure: the formats (HTML, PDF, XLSX, CSV) only
lay it out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from aftercare_reporting.domain.defects import DefectGroup
from aftercare_reporting.domain.evidence import attainment
from aftercare_reporting.domain.periods import Row, Slice
from aftercare_reporting.domain.quality import Issue
from aftercare_reporting.domain.results import Result

TREND_KPIS = (
    "M-RESPONSE-RATE",
    "M-FCR",
    "M-RESOLVED",
    "M-PROGRESS",
    "M-CSAT",
    "M-COMPLAINT-24H",
    "M-SLA",
)
"""The indicators drawn as trends (the headline ones; every indicator is in the tables)."""
HEAT_KPIS = ("M-RESPONSE-RATE", "M-FCR", "M-RESOLVED", "M-PROGRESS", "M-CSAT", "M-SLA")
ANNUAL_ANSWERS = 500
"""Q §七: at least 500 valid survey answers a year (besides 5 % of the customers)."""
COMPARED_BY: tuple[Slice, ...] = ("region", "assignee", "kind")
WORST_PLACES = 3


@dataclass(frozen=True)
class Finding:
    kpi: str
    value: float
    target: float
    comparison: str
    gap: float
    """How far from the target, in the indicator's unit (always positive)."""
    worst: tuple[tuple[str, str, float], ...]
    """Where it was missed most: (slice kind, slice value, value), worst first."""


@dataclass(frozen=True)
class ReportContent:
    title_period: str
    start: datetime
    end: datetime
    as_of: datetime
    definitions: str
    cases: int
    summary: list[Result]
    findings: list[Finding]
    trend_labels: list[str]
    trends: dict[str, list[float | None]]
    targets: dict[str, float | None]
    """Each trend's target, drawn across its chart."""
    comparisons: dict[str, list[Row]]
    heat_regions: list[str]
    heat: dict[str, dict[str, float | None]]
    """region → indicator → attainment 0–1 (None: nothing to judge)."""
    outliers: tuple[str, ...]
    set_aside: list[Issue]
    defects: list[DefectGroup]
    recommendations: list[str] = field(default_factory=list)


def _by_kpi(results: Sequence[Result]) -> dict[str, Result]:
    return {r.kpi: r for r in results}


Place = tuple[str, str, float]


def _worst(kpi: str, target: Result, slices: Mapping[str, Sequence[Row]]) -> tuple[Place, ...]:
    places: list[Place] = []
    for by, rows in slices.items():
        for row in rows:
            result = _by_kpi(row.results).get(kpi)
            if result is not None and result.met is False and result.value is not None:
                places.append((by, row.slice, result.value))
    reverse = target.comparison == "at_most"
    places.sort(key=lambda p: p[2], reverse=reverse)
    return tuple(places[:WORST_PLACES])


def findings(overall: Sequence[Result], slices: Mapping[str, Sequence[Row]]) -> list[Finding]:
    """Every target missed over the whole period, by how much, and where most."""
    found = []
    for result in overall:
        if result.met is not False or result.value is None or result.target is None:
            continue
        gap = abs(result.value - result.target)
        worst = _worst(result.kpi, result, slices)
        found.append(
            Finding(result.kpi, result.value, result.target, result.comparison, gap, worst)
        )
    return sorted(found, key=lambda f: f.gap, reverse=True)


def heat_map(rows: Sequence[Row]) -> tuple[list[str], dict[str, dict[str, float | None]]]:
    """Per region, each heat-map indicator's attainment of its target (0–1)."""
    regions = [row.slice for row in rows]
    cells = {}
    for row in rows:
        results = _by_kpi(row.results)
        cells[row.slice] = {
            kpi: (attainment(results[kpi]) if kpi in results else None) for kpi in HEAT_KPIS
        }
    return regions, cells


def build(
    *,
    title_period: str,
    start: datetime,
    end: datetime,
    as_of: datetime,
    definitions: str,
    overall: Row,
    trend: Sequence[Row],
    trend_label: str,
    comparisons: Mapping[str, list[Row]],
    defects: Sequence[DefectGroup],
    advice: Mapping[str, str],
    annual: bool = False,
) -> ReportContent:
    """The report's content from the period's rows (whole period, each trend step and
    each slice), the defects, and a recommendation text per indicator."""
    labels = [row.start.strftime(trend_label) for row in trend]
    trends = {
        kpi: [(_by_kpi(row.results).get(kpi) or _none(kpi)).value for row in trend]
        for kpi in TREND_KPIS
    }
    targets = {
        kpi: getattr(_by_kpi(overall.results).get(kpi), "target", None) for kpi in TREND_KPIS
    }
    found = findings(overall.results, comparisons)
    sample = _by_kpi(overall.results).get("M-SURVEY-SAMPLE")
    if annual and sample is not None and sample.numerator < ANNUAL_ANSWERS:
        gap = ANNUAL_ANSWERS - sample.numerator
        found.append(
            Finding(
                "M-SURVEY-SAMPLE (answers)", sample.numerator, ANNUAL_ANSWERS, "at_least", gap, ()
            )
        )
    regions, heat = heat_map(comparisons.get("region", []))
    outlier = _by_kpi(overall.results).get("M-OUTLIER")
    return ReportContent(
        title_period=title_period,
        start=start,
        end=end,
        as_of=as_of,
        definitions=definitions,
        cases=overall.cases,
        summary=[r for r in overall.results if r.kpi != "M-OUTLIER"],
        findings=found,
        trend_labels=labels,
        trends=trends,
        targets=targets,
        comparisons=dict(comparisons),
        heat_regions=regions,
        heat=heat,
        outliers=outlier.tickets if outlier else (),
        set_aside=list(overall.set_aside),
        defects=list(defects)[:10],
        recommendations=[advice[f.kpi] for f in found if f.kpi in advice],
    )


def _none(kpi: str) -> Result:
    return Result(kpi, None, 0, 0, None, "reported", "%", ())
