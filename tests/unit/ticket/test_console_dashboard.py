"""The dashboard's small charts: the points follow the values, gaps stay gaps."""

from __future__ import annotations

from aftercare_ticket.console.dashboard import CHART, series, trend_points


def test_a_trend_rises_where_the_values_rise_and_skips_gaps() -> None:
    points = trend_points([50.0, None, 100.0])
    first, last = (tuple(map(float, p.split(","))) for p in points.split())
    assert first[0] == 0.0
    assert last[0] == CHART[0]  # the last period at the right edge
    assert last[1] < first[1]  # higher value, higher on the chart (smaller y)
    assert len(points.split()) == 2
    assert trend_points([None, None]) == ""


def test_series_lines_up_each_indicator_by_period() -> None:
    rows = [
        {"kpis": [{"kpi": "M-FCR", "value": 80.0}]},
        {"kpis": [{"kpi": "M-FCR", "value": 90.0}, {"kpi": "M-CSAT", "value": 88.0}]},
    ]
    assert series(rows) == {"M-FCR": [80.0, 90.0], "M-CSAT": [None, 88.0]}
