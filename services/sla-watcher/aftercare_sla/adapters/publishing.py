"""SLA verdicts as CloudEvents on ``ticket.sla.v1``, and their published contract."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aftercare.cloudevents import CloudEvent
from aftercare.eventstore import RecordedEvent
from aftercare.schemas import ChannelContract, MessageContract, event_schema
from aftercare_sla.domain.events import SLA_EVENT_TYPES

SOURCE = "/aftercare/sla-watcher"
SCHEMA_BASE = "https://aftercare.dev/schemas/events/"


def ce_type(event_type: str, schema_version: int) -> str:
    return f"com.aftercare.sla.{event_type}.v{schema_version}"


def schema_file(event_type: str, schema_version: int) -> str:
    return f"{event_type}.v{schema_version}.json"


def sla_cloudevent(event: RecordedEvent) -> CloudEvent | None:
    """The wire form of a verdict; every other event stays off the SLA topic."""
    if event.type not in SLA_EVENT_TYPES:
        return None
    return CloudEvent(
        id=str(event.event_id),
        source=SOURCE,
        type=ce_type(event.type, event.schema_version),
        time=datetime.fromisoformat(event.data["occurred_at"]),
        subject=event.data["ticket_id"],
        sequence=event.version,
        dataschema=SCHEMA_BASE + schema_file(event.type, event.schema_version),
        data=event.data,
    )


def sla_event_schemas() -> dict[str, dict[str, Any]]:
    return {
        schema_file(name, model.schema_version): event_schema(
            model, SCHEMA_BASE + schema_file(name, model.schema_version)
        )
        for name, model in SLA_EVENT_TYPES.items()
    }


def sla_channel(address: str) -> ChannelContract:
    return ChannelContract(
        name="slaEvents",
        address=address,
        description=(
            "SLA verdicts of the watcher: a warning before a deadline, a breach once per "
            "target cycle per ticket, and targets met. Key = ticket id. Each carries the "
            "rule ID (T-*, docs/rules.md) and the policy version it was judged under."
        ),
        key="Ticket id (same as ce_subject).",
        source=SOURCE,
        producer="The SLA watcher's outbox relay",
        messages=[
            MessageContract(
                name=name,
                ce_type=ce_type(name, model.schema_version),
                schema_file=f"./events/{schema_file(name, model.schema_version)}",
                summary=(model.__doc__ or name).strip().splitlines()[0],
            )
            for name, model in SLA_EVENT_TYPES.items()
        ],
    )
