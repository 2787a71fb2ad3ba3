"""The self-assessment's arithmetic (S §6) against the worked example of
docs/assessment.md, computed there by hand."""

from __future__ import annotations

import pytest

from aftercare_reporting.domain.assessment import Assessment, Rating, level_of, problems, score
from aftercare_reporting.domain.evidence import attainment, suggest
from aftercare_reporting.domain.gbt27922 import CATALOGUE, band_of
from aftercare_reporting.domain.results import Result
from tests.support.assessments import worked_example


def domain(body: dict[str, object]) -> Assessment:
    items = body["items"]
    assert isinstance(items, dict)
    ratings = {
        code: Rating(code, tuple(r.get("shares", ())), r.get("applicable", True))
        for code, r in items.items()
    }
    deductions = body["deductions"]
    assert isinstance(deductions, list)
    bonus = body["bonus"]
    assert isinstance(bonus, float)
    return Assessment(ratings, tuple(deductions), bonus)


def test_the_worked_example() -> None:
    result = score(domain(worked_example()))
    assert result.applicable_points == 92
    assert result.achieved == pytest.approx(71.55)
    assert result.parts == {"service": (41.55, 52.0), "management": (30.0, 40.0)}
    assert result.scaled == 77.77
    assert result.total == 77.27
    assert (result.level, result.level_en) == ("达标级", "qualified")
    c4 = next(i for i in result.items if i.code == "C4")
    assert (c4.share, c4.earned, c4.band) == (95, 4.75, "80–100 %")
    assert next(i for i in result.items if i.code == "B10").share is None


def test_five_deductions_fail_whatever_the_score() -> None:
    result = score(domain(worked_example(deductions=5)))
    assert result.total == 73.27
    assert result.level == "不合格"


def test_levels_at_their_floors() -> None:
    assert [level_of(t, 0)[1] for t in (69.99, 70, 80, 90, 95, 100)] == [
        "fail",
        "qualified",
        "three-star",
        "four-star",
        "five-star",
        "five-star",
    ]
    assert level_of(99, 4)[1] == "five-star"
    assert [band_of(s) for s in (0, 19.9, 20, 79.9, 80, 100)] == [
        "0–20 %",
        "0–20 %",
        "20–40 %",
        "60–80 %",
        "80–100 %",
        "80–100 %",
    ]


def test_every_gap_is_listed() -> None:
    ratings = {i.code: Rating(i.code, (80,)) for i in CATALOGUE}
    del ratings["A1"]
    ratings["B2"] = Rating("B2", ())
    ratings["B3"] = Rating("B3", (120,))
    ratings["Z9"] = Rating("Z9", (50,))
    found = dict(problems(Assessment(ratings, bonus=2)))
    assert set(found) == {"items.A1", "items.B2", "items.B3", "items.Z9", "bonus"}


def test_suggestions_from_the_figures() -> None:
    def result(kpi: str, value: float, target: float | None, comparison: str) -> Result:
        return Result(kpi, value, 0, 10, target, comparison, "%", ("t1",))  # type: ignore[arg-type]

    assert attainment(result("M-REPEAT", 10, 5, "at_most")) == 0.5
    assert attainment(result("M-REPEAT", 0, 5, "at_most")) == 1.0
    assert attainment(result("M-FCR", 68, 85, "at_least")) == pytest.approx(0.8)
    assert attainment(result("M-SLA/T-ONSITE", 90, None, "reported")) == 0.9
    figures = {
        "M-SPARES": result("M-SPARES", 50, 100, "at_least"),
        "M-SURVEY-SAMPLE": result("M-SURVEY-SAMPLE", 10, 5, "at_least"),
        "M-CSAT": result("M-CSAT", 68, 85, "at_least"),
    }
    suggested = suggest(figures)
    assert suggested["B16"].share == 50.0
    assert suggested["C4"].share == 90.0  # (1 + 0.8) / 2
    assert suggested["C4"].tickets == ("t1",)
    assert "C7" not in suggested  # nothing to speak for it in these figures
