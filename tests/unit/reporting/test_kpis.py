"""The indicators of Q §六 over a hand-computed set of cases (docs/kpis.md): every
value, numerator, denominator and the cases that count against it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from aftercare_reporting.domain.cases import Case, Fact, fold
from aftercare_reporting.domain.kpis import compute
from aftercare_reporting.domain.periods import tabulate
from aftercare_reporting.domain.results import Result

CST = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=CST)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def case(ticket: str, raised: dict[str, Any], *steps: tuple[float, str, dict[str, Any]]) -> Case:
    data = {"kind": "support", "channel": "phone", "priority": "normal", "urgent": False, **raised}
    data.setdefault("requested_at", at(0).isoformat())
    facts = [Fact(1, "RequestRaised", at(0), data)]
    facts += [
        Fact(n, name, at(minutes), extra) for n, (minutes, name, extra) in enumerate(steps, 2)
    ]
    return fold(ticket, facts)


CASES = [
    # 1: phone, acknowledged in 2 min, resolved in 2 h at first contact, 5 stars; updated on time.
    case(
        "t1",
        {},
        (2, "Acknowledged", {}),
        (50, "ProgressReported", {}),
        (100, "ProgressReported", {}),
        (120, "Resolved", {}),
        (130, "Revisited", {"satisfaction": 5}),
        (130, "Closed", {}),
    ),
    # 2: e-mail, acknowledged in 15 min (late); info asked (not first contact); resolved in
    # 5 h; an hour and a half without update but 40 min of it waiting on the customer.
    case(
        "t2",
        {"channel": "email"},
        (15, "Acknowledged", {}),
        (20, "CustomerInfoRequested", {}),
        (60, "CustomerInfoProvided", {}),
        (105, "ProgressReported", {}),
        (300, "Resolved", {}),
        (310, "Revisited", {"satisfaction": 2}),
        (310, "Reopened", {}),
        (400, "Resolved", {}),
        (410, "Revisited", {"satisfaction": 4}),
        (410, "Closed", {}),
    ),
    # 3: online, acknowledged in 20 min (late for T-ONLINE, within 30 min); withdrawn.
    case("t3", {"channel": "online"}, (20, "Acknowledged", {}), (30, "Withdrawn", {})),
    # 4: a complaint by letter, answered in 30 min, resolved, 3 stars.
    case(
        "t4",
        {"kind": "complaint", "channel": "letter"},
        (30, "Acknowledged", {"complaint_grade": "general"}),
        (60, "Resolved", {}),
        (70, "Revisited", {"satisfaction": 3}),
    ),
    # 5: a complaint online, answered after 2 days (missed 24 h).
    case("t5", {"kind": "complaint", "channel": "online"}, (2880, "Acknowledged", {})),
    # 6: a paid on-site repair, punctual arrival 10 min late, resolved.
    case(
        "t6",
        {"kind": "repair", "channel": "phone"},
        (1, "Acknowledged", {}),
        (10, "OnSiteVisitScheduled", {"appointment_at": at(240).isoformat()}),
        (245, "Diagnosed", {"on_site_arrived_at": at(250).isoformat()}),
        (250, "QuoteAnswered", {"accepted": True}),
        (260, "Resolved", {}),
    ),
]


def by_id(results: list[Result]) -> dict[str, Result]:
    return {r.kpi: r for r in results}


@pytest.fixture
def kpis() -> dict[str, Result]:
    return by_id(compute(CASES))


def check(result: Result, value: float | None, numerator: float, denominator: int) -> None:
    assert (result.numerator, result.denominator) == (numerator, denominator), result.kpi
    assert result.value == (pytest.approx(value) if value is not None else None), result.kpi


def test_response(kpis: dict[str, Result]) -> None:
    # Judged: every case (none withdrawn before its acknowledgement). In time: t1 (2 of
    # 3 min), t6 (1 of 3), t4 (30 min ≤ 5 min? no: a letter has T-ONLINE's 5 min) → t1, t6.
    check(kpis["M-RESPONSE-RATE"], 100 * 2 / 6, 2, 6)
    assert set(kpis["M-RESPONSE-RATE"].tickets) == {"t2", "t3", "t4", "t5"}
    check(kpis["M-ONLINE-30MIN"], 50.0, 1, 2)  # t3 in 20 min; t5 after two days
    assert kpis["M-ONLINE-30MIN"].met is False


def test_resolution(kpis: dict[str, Result]) -> None:
    # Resolved: t1, t2, t4, t6. First contact: t1 and t4 (t2 asked for information and
    # was reopened; t6 booked a visit).
    check(kpis["M-FCR"], 50.0, 2, 4)
    assert set(kpis["M-FCR"].tickets) == {"t2", "t6"}
    check(kpis["M-REPEAT"], 25.0, 1, 4)
    assert kpis["M-REPEAT"].tickets == ("t2",)
    assert kpis["M-REPEAT"].met is False
    # Completely resolved: closed and not left unsatisfied: t1, t2 (4 stars at the end);
    # t4 rated 3, t6 not closed yet; t3 withdrawn unresolved counts against.
    check(kpis["M-RESOLVED"], 40.0, 2, 5)
    # Mean time to the first resolution: (2 + 5 + 1 + 4 1/3) / 4 hours.
    check(kpis["M-MTTR"], (2 + 5 + 1 + 260 / 60) / 4, 2 + 5 + 1 + 260 / 60, 4)


def test_progress(kpis: dict[str, Result]) -> None:
    # t1: 2→50, 50→100, 100→120: 3 on time. t2 (open until 300, reopened, then until
    # 400): 15→105 is 90 min less 40 waiting (on time), 105→300 late: 1 of 2. t3: 20→30
    # on time. t4: 30→60 on time. t5: still open, not judged. t6: 1→260 late.
    check(kpis["M-PROGRESS"], 100 * 6 / 8, 6, 8)
    assert set(kpis["M-PROGRESS"].tickets) == {"t2", "t6"}


def test_complaints_and_satisfaction(kpis: dict[str, Result]) -> None:
    check(kpis["M-COMPLAINT-24H"], 50.0, 1, 2)
    check(kpis["M-COMPLAINT-SAT"], 0.0, 0, 1)  # t4: 3 stars
    # 5, 4 (t2's last revisit) and 3 stars → 100, 75, 50.
    check(kpis["M-CSAT"], 75.0, 225.0, 3)
    assert kpis["M-CSAT"].met is False
    check(kpis["M-CHANNELS"], 2.0, 2, 2)  # letter, online


def test_on_site_and_fees(kpis: dict[str, Result]) -> None:
    check(kpis["M-ONSITE-PUNCTUAL"], 100.0, 1, 1)
    check(kpis["M-EXTRA-FEE"], 100.0, 1, 1)
    assert kpis["M-EXTRA-FEE"].met is False


def test_periods_and_slices() -> None:
    rows = tabulate(CASES, T0, T0 + timedelta(days=7), "day", "kind", CST)
    assert {(row.start.date().isoformat(), row.slice, row.cases) for row in rows} == {
        ("2026-03-02", "complaint", 2),
        ("2026-03-02", "repair", 1),
        ("2026-03-02", "support", 3),
        ("2026-03-03", "all", 0),
        ("2026-03-04", "all", 0),
        ("2026-03-05", "all", 0),
        ("2026-03-06", "all", 0),
        ("2026-03-07", "all", 0),
        ("2026-03-08", "all", 0),
        ("2026-03-09", "all", 0),  # up to 09:00, the end of the range
    }
    [quarter] = tabulate(
        CASES,
        T0.replace(month=1, day=1, hour=0),
        T0.replace(month=4, day=1, hour=0),
        "quarter",
        None,
        CST,
    )
    assert quarter.cases == 6


def test_bad_data_is_set_aside_and_outliers_flagged() -> None:  # Q §七, M-OUTLIER
    broken = case("bad", {}, (-5, "Acknowledged", {}))  # acknowledged before the request
    rated = case("odd", {}, (1, "Acknowledged", {}), (2, "Revisited", {"satisfaction": 9}))
    usual = [
        case(f"u{n}", {}, (1, "Acknowledged", {}), (60 + n, "Resolved", {})) for n in range(12)
    ]
    slow = case("slow", {}, (1, "Acknowledged", {}), (6000, "Resolved", {}))
    [row] = tabulate([broken, rated, *usual, slow], T0, T0 + timedelta(days=1), "all", None, CST)
    assert row.cases == 13
    assert {(i.ticket_id, i.rule) for i in row.set_aside} == {
        ("bad", "B-TIME-ORDER"),
        ("odd", "B-SATISFACTION"),
    }
    outlier = by_id(row.results)["M-OUTLIER"]
    assert (outlier.value, outlier.tickets) == (1.0, ("slow",))


def test_an_alarm_per_episode_and_one_recovery() -> None:  # Q §九
    from aftercare_reporting.domain.alarms import judge
    from aftercare_reporting.domain.results import Result

    def fcr(value: float, cases: int = 10) -> Result:
        return Result("M-FCR", value, value * cases / 100, cases, 85.0, "at_least", "%", ())

    [raised] = judge([fcr(60)], {})
    assert raised.change == "raised"
    assert "M-FCR 60.0 below its target 85.0 over 7 days" in raised.headline(7)
    assert judge([fcr(60)], {"M-FCR": True}) == []  # the episode goes on: no second alarm
    [recovered] = judge([fcr(90)], {"M-FCR": True})
    assert recovered.change == "recovered"
    assert judge([fcr(90)], {"M-FCR": False}) == []
    assert judge([fcr(0, cases=3)], {}) == []  # too few cases to judge


def test_only_verdicts_of_the_watchers_contract_count() -> None:
    """Warnings, other topics' events and malformed verdicts are not counted."""
    import uuid

    from aftercare.cloudevents import CloudEvent
    from aftercare_reporting.adapters.sla_contract import verdict_of
    from aftercare_reporting.domain.attainment import attainment
    from aftercare_reporting.domain.cases import Case, Verdict

    def event(kind: str, **data: object) -> CloudEvent:
        return CloudEvent(
            id=str(uuid.uuid4()),
            source="/aftercare/sla-watcher",
            type=f"com.aftercare.sla.{kind}.v1",
            time=T0,
            subject="t1",
            data=data,
        )

    assert verdict_of(event("SlaMet", rule="T-ONLINE", cycle=1, title="x")) == Verdict(
        "T-ONLINE", "x", 1, True
    )
    assert verdict_of(event("SlaWarning", rule="T-ONLINE", cycle=1)) is None
    assert verdict_of(event("SlaBreached", rule="T-ONLINE", cycle="1")) is None
    assert verdict_of(event("SlaBreached", cycle=1)) is None
    cases = [
        Case("a", verdicts=(Verdict("T-SPARES", "s", 1, True), Verdict("T-ONLINE", "a", 1, False))),
        Case("b", verdicts=(Verdict("T-SPARES", "s", 1, False),)),
        Case("c"),
    ]
    results = {r.kpi: r for r in attainment(cases)}
    assert (results["M-SLA"].numerator, results["M-SLA"].denominator) == (1, 3)
    assert results["M-SLA"].tickets == ("a", "b")
    assert (results["M-SPARES"].value, results["M-SPARES"].tickets) == (50.0, ("b",))
    assert results["M-SLA/T-ONLINE"].tickets == ("a",)
    assert sorted(results) == ["M-SLA", "M-SLA/T-ONLINE", "M-SLA/T-SPARES", "M-SPARES"]


def test_an_annual_report_names_a_survey_sample_below_500_answers() -> None:
    from aftercare_reporting.domain.report_content import build

    start, end = T0, T0 + timedelta(days=365)
    cases = [
        Case(
            f"t{n}",
            kind="support",
            channel="phone",
            customer_ref=f"C{n}",
            requested_at=T0,
            survey_overall=5,
        )
        for n in range(3)
    ]
    [overall] = tabulate(cases, start, end, "all", None, CST)

    def content(annual: bool) -> list[str]:
        made = build(
            title_period="2026",
            start=start,
            end=end,
            as_of=end,
            definitions="2026.1",
            overall=overall,
            trend=[overall],
            trend_label="%Y",
            comparisons={},
            defects=[],
            advice={"M-SURVEY-SAMPLE (answers)": "more surveys"},
            annual=annual,
        )
        return [f"{f.kpi} {f.value:g}/{f.target:g}" for f in made.findings]

    assert "M-SURVEY-SAMPLE (answers) 3/500" in content(annual=True)
    assert not any(f.startswith("M-SURVEY-SAMPLE (answers)") for f in content(annual=False))
