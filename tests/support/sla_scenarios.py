"""For every T-* clock: a ticket whose events meet it, and the same ticket without the
event that would stop it in time. Shared by the domain tests and the end-to-end test."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aftercare_sla.domain.facts import Fact

CST = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=CST)  # a Monday, a working day


def later(minutes: float = 0, *, hours: float = 0, days: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, hours=hours, days=days)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CST)


@dataclass
class Scenario:
    rule: str
    kind: str = "support"
    channel: str = "email"
    urgent: bool = False
    steps: list[tuple[datetime, str, dict[str, Any]]] = field(default_factory=list)
    stop: tuple[datetime, str, dict[str, Any]] | None = None
    """The event that meets the target; the "miss" ticket never gets it."""
    late_stop: tuple[datetime, str, dict[str, Any]] | None = None
    deadline: datetime | None = None
    raised_at: datetime = T0

    def raised(self) -> tuple[datetime, str, dict[str, Any]]:
        return (
            self.raised_at,
            "RequestRaised",
            {
                "kind": self.kind,
                "channel": self.channel,
                "priority": "urgent" if self.urgent else "normal",
                "urgent": self.urgent,
                "customer_ref": f"CUST-{self.rule}",
                "requested_at": self.raised_at.isoformat(),
            },
        )

    def facts(self, *, met: bool, late: bool = False) -> list[Fact]:
        events = [self.raised(), *self.steps]
        if met and self.stop:
            events.append(self.stop)
        if late and self.late_stop:
            events.append(self.late_stop)
        return [
            Fact(sequence, name, at, {"ticket_id": "t", "occurred_at": at.isoformat(), **data})
            for sequence, (at, name, data) in enumerate(events, start=1)
        ]


def ack(
    at: datetime, grade: str | None = None, urgent: bool = False
) -> tuple[datetime, str, dict[str, Any]]:
    data: dict[str, Any] = {"urgent": urgent, "priority": "urgent" if urgent else "normal"}
    if grade:
        data["complaint_grade"] = grade
    return (at, "Acknowledged", data)


def event(at: datetime, name: str, **data: Any) -> tuple[datetime, str, dict[str, Any]]:
    return (at, name, data)


REFUND = {"refund": {"purchase_price": {"amount": "10.00", "currency": "CNY"}}}
REPORT = {"repair_report": {"work_done": "bearing", "parts_replaced": ["bearing"]}}

SCENARIOS: list[Scenario] = [
    Scenario(
        "T-PHONE", channel="phone", stop=ack(later(2)), late_stop=ack(later(4)), deadline=later(3)
    ),
    Scenario("T-EMAIL", stop=ack(later(9)), late_stop=ack(later(11)), deadline=later(10)),
    Scenario(
        "T-ONLINE", channel="online", stop=ack(later(4)), late_stop=ack(later(6)), deadline=later(5)
    ),
    Scenario(
        "T-URGENT",
        urgent=True,
        stop=ack(later(14), urgent=True),
        late_stop=ack(later(16), urgent=True),
        deadline=later(15),
    ),
    Scenario(
        "T-PROGRESS",
        steps=[ack(later(1))],
        stop=event(later(50), "ProgressReported"),
        late_stop=event(later(70), "ProgressReported"),
        deadline=later(61),
    ),
    Scenario(
        "T-WARRANTY-CONTACT",
        kind="repair",
        stop=event(later(hours=23), "Diagnosed", complexity="general"),
        late_stop=event(later(hours=25), "Diagnosed", complexity="general"),
        deadline=later(hours=24),
    ),
    Scenario(
        "T-ONSITE",
        kind="repair",
        steps=[
            event(later(30), "OnSiteVisitScheduled", appointment_at=later(hours=40).isoformat())
        ],
        stop=event(later(hours=47), "Diagnosed", on_site_arrived_at=later(hours=46).isoformat()),
        late_stop=event(
            later(hours=50), "Diagnosed", on_site_arrived_at=later(hours=49).isoformat()
        ),
        deadline=later(hours=48),
    ),
    Scenario(
        "T-ONSITE-PUNCTUAL",
        kind="repair",
        steps=[
            event(later(30), "OnSiteVisitScheduled", appointment_at=later(hours=24).isoformat())
        ],
        stop=event(
            later(hours=25), "Diagnosed", on_site_arrived_at=later(hours=24, minutes=20).isoformat()
        ),
        late_stop=event(
            later(hours=25), "Diagnosed", on_site_arrived_at=later(hours=24, minutes=40).isoformat()
        ),
        deadline=later(hours=24, minutes=30),
    ),
    Scenario(
        "T-REPAIR-NOTIFY",
        kind="repair",
        steps=[event(local("2026-03-02 10:00"), "Resolved", **REPORT)],
        stop=event(local("2026-03-05 23:00"), "ProductReturned", method="shipped"),
        late_stop=event(local("2026-03-06 01:00"), "ProductReturned", method="shipped"),
        deadline=local("2026-03-06 00:00"),
    ),
    Scenario(
        "T-RETURN-REVIEW",
        kind="return",
        stop=event(later(hours=23), "Declined", rule="B-RETURN-WINDOW"),
        late_stop=event(later(hours=25), "ReturnInstructionsGiven", address="Service centre"),
        deadline=later(hours=24),
    ),
    Scenario(
        "T-RETURN-REFUND",
        kind="return",
        steps=[ack(later(10)), event(local("2026-03-02 10:00"), "ProductReceived")],
        stop=event(local("2026-03-11 18:00"), "Resolved", **REFUND),
        late_stop=event(local("2026-03-12 09:00"), "Resolved", **REFUND),
        deadline=local("2026-03-12 00:00"),
    ),
    Scenario(
        "T-EXCHANGE-SHIP",
        kind="exchange",
        steps=[ack(later(10)), event(local("2026-03-02 10:00"), "ProductReceived")],
        stop=event(local("2026-03-05 18:00"), "Resolved", replacement={"model": "W200"}),
        late_stop=event(local("2026-03-06 09:00"), "Resolved", replacement={"model": "W200"}),
        deadline=local("2026-03-06 00:00"),
    ),
    Scenario(
        "T-REFUND",
        kind="refund",
        steps=[ack(later(5)), event(later(10), "RefundApproved", **REFUND)],
        stop=event(local("2026-03-05 18:00"), "Resolved", **REFUND),
        late_stop=event(local("2026-03-06 09:00"), "Resolved", **REFUND),
        deadline=local("2026-03-06 00:00"),
    ),
    Scenario(
        "T-COMPLAINT-CONTACT",
        kind="complaint",
        channel="phone",
        stop=ack(later(50), "general"),
        late_stop=ack(later(70), "general"),
        deadline=later(60),
    ),
    Scenario(
        "T-COMPLAINT-GENERAL",
        kind="complaint",
        steps=[ack(later(20), "general")],
        stop=event(local("2026-03-05 18:00"), "Resolved"),
        late_stop=event(local("2026-03-06 09:00"), "Resolved"),
        deadline=local("2026-03-06 00:00"),
    ),
    Scenario(
        "T-COMPLAINT-COMPLEX",
        kind="complaint",
        steps=[ack(later(20), "complex")],
        stop=event(local("2026-03-11 18:00"), "Resolved"),
        late_stop=event(local("2026-03-12 09:00"), "Resolved"),
        deadline=local("2026-03-12 00:00"),
    ),
    Scenario(
        "T-COMPLAINT-REVISIT",
        kind="complaint",
        steps=[ack(later(20), "general"), event(local("2026-03-02 16:00"), "Resolved")],
        stop=event(local("2026-03-05 18:00"), "Revisited", satisfaction=5),
        late_stop=event(local("2026-03-06 09:00"), "Revisited", satisfaction=5),
        deadline=local("2026-03-06 00:00"),
    ),
    Scenario(
        "T-RESOLVE-GENERAL",
        steps=[ack(later(5)), event(later(60), "Diagnosed", complexity="general")],
        stop=event(later(hours=3, minutes=59), "Resolved"),
        late_stop=event(later(hours=4, minutes=10), "Resolved"),
        deadline=later(hours=4),
    ),
    Scenario(
        "T-SPARES",
        kind="spare_parts",
        steps=[ack(later(5))],
        stop=event(local("2026-03-11 18:00"), "Resolved"),
        late_stop=event(local("2026-03-12 09:00"), "Resolved"),
        deadline=local("2026-03-12 00:00"),
    ),
]
