"""The events one part of the system publishes on its own topic, beside the ticket's:
their CloudEvents type, their schema file and ``$id``, their wire form from the log, and
the messages of their AsyncAPI channel. Each part names its family once instead of
writing the same codec again."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from aftercare.cloudevents import CloudEvent
from aftercare.eventstore import RecordedEvent
from aftercare.schemas import MessageContract, event_schema

SCHEMA_BASE = "https://aftercare.dev/schemas/events/"


@dataclass(frozen=True)
class EventFamily:
    source: str
    """``ce_source``, e.g. ``/aftercare/sla-watcher``."""
    type_prefix: str
    """``ce_type`` before the event's name, e.g. ``com.aftercare.sla.``."""
    models: Mapping[str, type[BaseModel]]
    """Each event's model by name; a model's ``schema_version`` is its ``.vN``."""
    subject_of: Callable[[Mapping[str, Any]], str]
    """``ce_subject`` (and the Kafka key) from the event's data."""

    def ce_type(self, name: str, schema_version: int) -> str:
        return f"{self.type_prefix}{name}.v{schema_version}"

    @staticmethod
    def schema_file(name: str, schema_version: int) -> str:
        return f"{name}.v{schema_version}.json"

    def cloudevent(self, event: RecordedEvent) -> CloudEvent | None:
        """The wire form of one of the family's events; None for every other event."""
        if event.type not in self.models:
            return None
        return CloudEvent(
            id=str(event.event_id),
            source=self.source,
            type=self.ce_type(event.type, event.schema_version),
            time=datetime.fromisoformat(event.data["occurred_at"]),
            subject=self.subject_of(event.data),
            sequence=event.version,
            dataschema=SCHEMA_BASE + self.schema_file(event.type, event.schema_version),
            data=event.data,
        )

    def schemas(self) -> dict[str, dict[str, Any]]:
        """Each event's JSON Schema by file name (personal data removed)."""
        return {
            self.schema_file(name, _version(model)): event_schema(
                model, SCHEMA_BASE + self.schema_file(name, _version(model))
            )
            for name, model in self.models.items()
        }

    def messages(self) -> list[MessageContract]:
        """The AsyncAPI messages of the family's channel."""
        return [
            MessageContract(
                name=name,
                ce_type=self.ce_type(name, _version(model)),
                schema_file=f"./events/{self.schema_file(name, _version(model))}",
                summary=(model.__doc__ or name).strip().splitlines()[0],
            )
            for name, model in self.models.items()
        ]


def _version(model: type[BaseModel]) -> int:
    return int(getattr(model, "schema_version", 1))
