"""SLA verdicts and on-call alert events as CloudEvents on ``ticket.sla.v1``, and their
published contract."""

from __future__ import annotations

from typing import Any

from aftercare.cloudevents import CloudEvent
from aftercare.event_family import EventFamily
from aftercare.eventstore import RecordedEvent
from aftercare.schemas import ChannelContract
from aftercare_sla.domain.alert_events import ALERT_EVENT_TYPES
from aftercare_sla.domain.events import SLA_EVENT_TYPES

FAMILY = EventFamily(
    source="/aftercare/sla-watcher",
    type_prefix="com.aftercare.sla.",
    models={**SLA_EVENT_TYPES, **ALERT_EVENT_TYPES},
    subject_of=lambda data: str(data["ticket_id"]),
)

TOPIC_EVENT_TYPES = frozenset(FAMILY.models)
"""What the watcher's relay publishes on ``ticket.sla.v1``."""


def sla_cloudevent(event: RecordedEvent) -> CloudEvent | None:
    """The wire form of one of these events; every other event stays off the topic."""
    return FAMILY.cloudevent(event)


def sla_event_schemas() -> dict[str, dict[str, Any]]:
    return FAMILY.schemas()


def sla_channel(address: str) -> ChannelContract:
    return ChannelContract(
        name="slaEvents",
        address=address,
        description=(
            "SLA verdicts of the watcher: a warning before a deadline, a breach once per "
            "target cycle per ticket, and targets met; and the on-call alerts' lifecycle "
            "(triggered, escalated, acknowledged, re-notified, reassigned, resolved). Key = "
            "ticket id. Verdicts carry the rule ID (T-*, docs/rules.md) and the policy "
            "version they were judged under."
        ),
        key="Ticket id (same as ce_subject).",
        source=FAMILY.source,
        producer="The SLA watcher's outbox relay",
        messages=FAMILY.messages(),
    )
