"""The weighted score of Q's indicator tree: each indicator scores 100 × its attainment
of the target (the same attainment the self-assessment's evidence uses), a dimension
the mean of its indicators that have a value, the whole the weighted mean of the
dimensions that have one. What has no value yet is listed, never counted as 0: a
score says how much of the tree it covers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aftercare_reporting.domain.evidence import attainment
from aftercare_reporting.domain.indicator_tree import DIMENSIONS, TREE, WEIGHT_RANGES, Indicator
from aftercare_reporting.domain.results import Result


@dataclass(frozen=True)
class IndicatorScore:
    indicator: Indicator
    value: float | None
    score: float | None
    met: bool | None
    source: str
    """``events`` (computed), ``entered`` (by an operator) or ``missing``."""


@dataclass(frozen=True)
class DimensionScore:
    dimension: str
    weight: float
    within_q_range: bool
    score: float | None
    indicators: list[IndicatorScore]


@dataclass(frozen=True)
class TreeScore:
    score: float | None
    coverage: float
    """The share of indicators that had a value (0–1)."""
    dimensions: list[DimensionScore]


def _judge(indicator: Indicator, value: float | None, source: str) -> IndicatorScore:
    if value is None:
        return IndicatorScore(indicator, None, None, None, "missing")
    as_result = Result(
        indicator.id, value, 0, 0, indicator.target, indicator.comparison, indicator.unit, ()
    )
    if indicator.comparison == "at_most" and indicator.target == 0:
        share = 1.0 if value <= 0 else 0.0  # a ceiling of zero: any incident misses it
    else:
        share = attainment(as_result) or 0.0
    return IndicatorScore(indicator, value, round(100 * share, 2), as_result.met, source)


def tree_score(
    computed: Mapping[str, Result], entered: Mapping[str, float], weights: Mapping[str, float]
) -> TreeScore:
    """The tree's score from the period's KPIs and the operator's latest entries."""
    dimensions: list[DimensionScore] = []
    valued = 0
    for dimension in DIMENSIONS:
        scores = []
        for indicator in (i for i in TREE if i.dimension == dimension):
            if indicator.entered:
                value, source = entered.get(indicator.id), "entered"
            else:
                result = computed.get(indicator.id)
                value, source = (result.value if result else None), "events"
            scores.append(_judge(indicator, value, source))
        known = [s.score for s in scores if s.score is not None]
        valued += len(known)
        low, high = WEIGHT_RANGES[dimension]
        weight = weights[dimension]
        mean = round(sum(known) / len(known), 2) if known else None
        dimensions.append(DimensionScore(dimension, weight, low <= weight <= high, mean, scores))
    scored = [(d.weight, d.score) for d in dimensions if d.score is not None and d.weight > 0]
    total_weight = sum(w for w, _ in scored)
    overall = round(sum(w * s for w, s in scored) / total_weight, 2) if total_weight else None
    return TreeScore(overall, round(valued / len(TREE), 3), dimensions)
