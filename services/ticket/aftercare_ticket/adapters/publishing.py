"""Ticket events as CloudEvents on ``ticket.events.v1``: no personal data (P-PII)."""

from __future__ import annotations

from datetime import datetime

from aftercare.cloudevents import CloudEvent
from aftercare.eventstore import RecordedEvent
from aftercare_ticket.contract import ce_type
from aftercare_ticket.domain.events import EVENT_TYPES
from aftercare_ticket.domain.personal import without_personal_data

SOURCE = "/aftercare/ticket"
SCHEMA_BASE = "https://aftercare.dev/schemas/events/"


def schema_file(event_type: str, schema_version: int) -> str:
    return f"{event_type}.v{schema_version}.json"


def ticket_cloudevent(event: RecordedEvent) -> CloudEvent | None:
    """The wire form of a stored ticket event; other streams' events stay off the topic."""
    if event.type not in EVENT_TYPES:
        return None
    happened = event.data.get("occurred_at") or event.data.get("requested_at")
    return CloudEvent(
        id=str(event.event_id),
        source=SOURCE,
        type=ce_type(event.type, event.schema_version),
        time=datetime.fromisoformat(happened) if happened else event.recorded_at,
        subject=event.stream_id,
        sequence=event.version,
        dataschema=SCHEMA_BASE + schema_file(event.type, event.schema_version),
        data=without_personal_data(event.type, event.data),
    )
