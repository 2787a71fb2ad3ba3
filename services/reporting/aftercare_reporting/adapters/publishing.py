"""Quality alerts as CloudEvents on their own topic, and their published contract."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aftercare.cloudevents import CloudEvent
from aftercare.eventstore import RecordedEvent
from aftercare.schemas import ChannelContract, MessageContract, event_schema
from aftercare_reporting.domain.events import QUALITY_EVENT_TYPES

SOURCE = "/aftercare/reporting"
SCHEMA_BASE = "https://aftercare.dev/schemas/events/"


def ce_type(event_type: str, schema_version: int) -> str:
    return f"com.aftercare.quality.{event_type}.v{schema_version}"


def _file(event_type: str, schema_version: int) -> str:
    return f"{event_type}.v{schema_version}.json"


def quality_cloudevent(event: RecordedEvent) -> CloudEvent | None:
    if event.type not in QUALITY_EVENT_TYPES:
        return None
    return CloudEvent(
        id=str(event.event_id),
        source=SOURCE,
        type=ce_type(event.type, event.schema_version),
        time=datetime.fromisoformat(event.data["occurred_at"]),
        subject=f"{event.data['model']}/{event.data['lot']}",
        sequence=event.version,
        dataschema=SCHEMA_BASE + _file(event.type, event.schema_version),
        data=event.data,
    )


def quality_event_schemas() -> dict[str, dict[str, Any]]:
    return {
        _file(name, model.schema_version): event_schema(
            model, SCHEMA_BASE + _file(name, model.schema_version)
        )
        for name, model in QUALITY_EVENT_TYPES.items()
    }


def quality_channel(address: str) -> ChannelContract:
    return ChannelContract(
        name="qualityAlerts",
        address=address,
        description=(
            "Defect feedback for R&D and production: faults of one product model, lot and "
            "cause that reached the threshold within the window. Key = model/lot."
        ),
        key="Product model and lot (same as ce_subject).",
        source=SOURCE,
        producer="The reporting service's outbox relay",
        messages=[
            MessageContract(
                name=name,
                ce_type=ce_type(name, model.schema_version),
                schema_file=f"./events/{_file(name, model.schema_version)}",
                summary=(model.__doc__ or name).strip().splitlines()[0],
            )
            for name, model in QUALITY_EVENT_TYPES.items()
        ],
    )
