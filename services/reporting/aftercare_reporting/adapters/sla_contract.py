"""What the reports read of the SLA watcher's published contract (``ticket.sla.v1``,
schemas/events/SlaMet.v1.json and SlaBreached.v1.json): the rule, the cycle and whether
the clock was met. The reporting service knows the watcher only through this."""

from __future__ import annotations

from aftercare.cloudevents import CloudEvent
from aftercare_reporting.domain.cases import Verdict

SLA_TYPE_PREFIX = "com.aftercare.sla."
OUTCOMES = {"SlaMet": True, "SlaBreached": False}
"""Warnings are not verdicts: a warned clock is judged when it is met or breached."""


def verdict_of(event: CloudEvent) -> Verdict | None:
    """The verdict an SLA CloudEvent carries; None for warnings and anything else."""
    if not event.type.startswith(SLA_TYPE_PREFIX):
        return None
    name = event.type.removeprefix(SLA_TYPE_PREFIX).split(".", 1)[0]
    if name not in OUTCOMES:
        return None
    data = event.data
    rule, cycle = data.get("rule"), data.get("cycle")
    if not isinstance(rule, str) or not isinstance(cycle, int) or not rule:
        return None
    title = data.get("title")
    return Verdict(rule[:64], str(title or rule)[:200], cycle, OUTCOMES[name])
