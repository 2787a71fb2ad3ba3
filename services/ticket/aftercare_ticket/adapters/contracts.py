"""The ticket topic's contract: one JSON Schema per event type and the AsyncAPI channel."""

from __future__ import annotations

from typing import Any

from aftercare.schemas import ChannelContract, MessageContract, event_schema
from aftercare_ticket.adapters.publishing import SCHEMA_BASE, SOURCE, schema_file
from aftercare_ticket.contract import ce_type
from aftercare_ticket.domain.events import EVENT_TYPES
from aftercare_ticket.domain.personal import PERSONAL_PATHS


def ticket_event_schemas() -> dict[str, dict[str, Any]]:
    """File name → schema of the published (personal-data-free) payload, per event type."""
    schemas = {}
    for name, model in EVENT_TYPES.items():
        file_name = schema_file(name, model.schema_version)
        schemas[file_name] = event_schema(
            model, SCHEMA_BASE + file_name, removed=PERSONAL_PATHS[name]
        )
    return schemas


def ticket_channel(address: str) -> ChannelContract:
    return ChannelContract(
        name="ticketEvents",
        address=address,
        description=(
            "Every ticket event, in commit order per ticket. Key = ticket id, so one "
            "ticket's events share a partition. Delivery is at-least-once: de-duplicate "
            "on ce_id. No personal data (P-PII): customers are identified by customer_ref."
        ),
        key="Ticket id (same as ce_subject).",
        source=SOURCE,
        producer="The ticket service's outbox relay",
        messages=[
            MessageContract(
                name=name,
                ce_type=ce_type(name, model.schema_version),
                schema_file=f"./events/{schema_file(name, model.schema_version)}",
                summary=(model.__doc__ or name).strip().splitlines()[0],
            )
            for name, model in EVENT_TYPES.items()
        ],
    )
