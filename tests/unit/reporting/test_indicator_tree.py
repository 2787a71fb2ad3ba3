"""Q's indicator tree and its weighted score, computed by hand; the indicators file
checked in full."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from aftercare_reporting.adapters.indicators_file import IndicatorFileError, parse_indicators
from aftercare_reporting.domain.indicator_tree import DEFAULT_WEIGHTS, TREE, weight_problems
from aftercare_reporting.domain.results import Result
from aftercare_reporting.domain.tree_score import tree_score

CST = ZoneInfo("Asia/Shanghai")


def kpi(name: str, value: float, target: float, comparison: str = "at_least") -> Result:
    return Result(name, value, 0, 10, target, comparison, "%", ())  # type: ignore[arg-type]


def test_the_tree_holds_q_s_four_dimensions_with_weights_in_range() -> None:
    assert {i.dimension for i in TREE} == {"resources", "process", "results", "improvement"}
    assert sum(DEFAULT_WEIGHTS.values()) == 100
    assert weight_problems(DEFAULT_WEIGHTS) == []
    assert len(TREE) == 27
    assert all(i.entered == i.id.startswith("Q-") for i in TREE)


def test_the_weighted_score_by_hand() -> None:
    computed = {
        "M-FCR": kpi("M-FCR", 68, 85),  # 0.8 → 80
        "M-CSAT": kpi("M-CSAT", 90, 85),  # met → 100
        "M-REPEAT": kpi("M-REPEAT", 10, 5, "at_most"),  # twice the ceiling → 50
    }
    entered = {
        "Q-NETWORK-DENSITY": 18,  # ≥ 15 → 100
        "Q-TRAINING-HOURS": 30,  # of 40 → 75
        "Q-SAFETY-INCIDENTS": 1,  # a ceiling of 0 → 0
        "Q-INNOVATION-PROJECTS": 1,  # of 2 → 50
    }
    result = tree_score(computed, entered, DEFAULT_WEIGHTS)
    scores = {d.dimension: d.score for d in result.dimensions}
    assert scores == {"resources": 87.5, "process": None, "results": 57.5, "improvement": 50}
    # process has nothing yet: scaled over the 68 % that has: (20·87.5 + 38·57.5 + 10·50) / 68
    assert result.score == 65.22
    assert result.coverage == round(7 / 27, 3)
    results = next(d for d in result.dimensions if d.dimension == "results")
    safety = next(s for s in results.indicators if s.indicator.id == "Q-SAFETY-INCIDENTS")
    assert (safety.score, safety.met, safety.source) == (0.0, False, "entered")
    missing = next(s for s in results.indicators if s.indicator.id == "M-RESOLVED")
    assert (missing.score, missing.source) == (None, "missing")


def test_weights_out_of_q_s_range_are_flagged_not_refused() -> None:
    weights = {"resources": 30, "process": 30, "results": 30, "improvement": 10}
    result = tree_score({}, {"Q-CERTIFIED": 100}, weights)
    flags = {d.dimension: d.within_q_range for d in result.dimensions}
    assert flags == {"resources": False, "process": True, "results": False, "improvement": True}
    assert result.score == 100.0


def test_the_file_is_checked_in_full() -> None:
    text = """
weights: {resources: 20, process: 30, results: 40, improvement: 20, luck: 1}
entries:
  - {indicator: Q-NETWORK-DENSITY, from: 2026-01-01, value: 18}
  - {indicator: M-FCR, from: 2026-01-01, value: 90}
  - {indicator: Q-CERTIFIED, from: 2026-13-01, value: 100}
"""
    with pytest.raises(IndicatorFileError) as raised:
        parse_indicators(text, "indicators.yaml", CST)
    assert any("entries.2.from" in p for p in raised.value.problems)
    text = text.replace("2026-13-01", "2026-12-01")
    with pytest.raises(IndicatorFileError) as raised:
        parse_indicators(text, "indicators.yaml", CST)
    problems = " | ".join(raised.value.problems)
    assert "luck is not a dimension" in problems
    assert "entries.1.indicator: M-FCR is not entered by hand" in problems
    good = text.replace(", luck: 1", "").replace("improvement: 20", "improvement: 10")
    good = good.replace("  - {indicator: M-FCR, from: 2026-01-01, value: 90}\n", "")
    weights, entries = parse_indicators(good, "indicators.yaml", CST)
    assert weights["results"] == 40
    assert [(e.indicator, e.valid_from.isoformat()) for e in entries] == [
        ("Q-NETWORK-DENSITY", "2026-01-01T00:00:00+08:00"),
        ("Q-CERTIFIED", "2026-12-01T00:00:00+08:00"),
    ]
    with pytest.raises(IndicatorFileError):
        parse_indicators("weights: [1, 2", "indicators.yaml", CST)


def test_the_shipped_file_loads() -> None:
    from pathlib import Path

    shipped = Path(__file__).resolve().parents[3] / "deploy" / "indicators.yaml"
    weights, entries = parse_indicators(shipped.read_text(), str(shipped), CST)
    assert weights == dict(DEFAULT_WEIGHTS)
    assert entries == []
