"""Quality alerts as CloudEvents on their own topic, and their published contract."""

from __future__ import annotations

from typing import Any

from aftercare.cloudevents import CloudEvent
from aftercare.event_family import EventFamily
from aftercare.eventstore import RecordedEvent
from aftercare.schemas import ChannelContract
from aftercare_reporting.domain.events import QUALITY_EVENT_TYPES

FAMILY = EventFamily(
    source="/aftercare/reporting",
    type_prefix="com.aftercare.quality.",
    models=QUALITY_EVENT_TYPES,
    subject_of=lambda data: f"{data['model']}/{data['lot']}",
)


def quality_cloudevent(event: RecordedEvent) -> CloudEvent | None:
    """The wire form of one of these events; every other event stays off the topic."""
    return FAMILY.cloudevent(event)


def quality_event_schemas() -> dict[str, dict[str, Any]]:
    return FAMILY.schemas()


def quality_channel(address: str) -> ChannelContract:
    return ChannelContract(
        name="qualityAlerts",
        address=address,
        description=(
            "Defect feedback for R&D and production: faults of one product model, lot and "
            "cause that reached the threshold within the window. Key = model/lot."
        ),
        key="Product model and lot (same as ce_subject).",
        source=FAMILY.source,
        producer="The reporting service's outbox relay",
        messages=FAMILY.messages(),
    )
