"""CloudEvents 1.0 in Kafka binary mode: one codec for both directions.

Attributes travel as ``ce_*`` headers, the data as the JSON message value, so
integrators can read it with any Kafka client and any CloudEvents SDK.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"


@dataclass(frozen=True, slots=True)
class CloudEvent:
    id: str
    source: str
    type: str
    time: datetime
    subject: str
    data: dict[str, Any]
    sequence: int | None = None
    dataschema: str | None = None
    extensions: dict[str, str] = field(default_factory=dict)


def to_kafka(event: CloudEvent) -> tuple[list[tuple[str, bytes]], bytes]:
    """Headers and value for a binary-mode Kafka message."""
    headers = [
        ("ce_specversion", SPEC_VERSION),
        ("ce_id", event.id),
        ("ce_source", event.source),
        ("ce_type", event.type),
        ("ce_time", event.time.isoformat().replace("+00:00", "Z")),
        ("ce_subject", event.subject),
        ("content-type", CONTENT_TYPE),
    ]
    if event.sequence is not None:
        headers.append(("ce_sequence", str(event.sequence)))
    if event.dataschema:
        headers.append(("ce_dataschema", event.dataschema))
    headers += [(f"ce_{name}", value) for name, value in sorted(event.extensions.items())]
    return [(name, value.encode()) for name, value in headers], orjson.dumps(event.data)


_KNOWN_HEADERS = frozenset(
    {
        "ce_specversion",
        "ce_id",
        "ce_source",
        "ce_type",
        "ce_time",
        "ce_subject",
        "ce_sequence",
        "ce_dataschema",
        "content-type",
    }
)


class NotACloudEvent(ValueError):
    pass


def from_kafka(headers: Sequence[tuple[str, bytes]], value: bytes | None) -> CloudEvent:
    attributes = {name: raw.decode() for name, raw in headers}
    if attributes.get("ce_specversion") != SPEC_VERSION:
        raise NotACloudEvent(f"ce_specversion is {attributes.get('ce_specversion')!r}")
    try:
        sequence = attributes.get("ce_sequence")
        extra = attributes.keys() - _KNOWN_HEADERS  # most events carry no extension
        extensions = {name[3:]: attributes[name] for name in extra if name.startswith("ce_")}
        return CloudEvent(
            id=attributes["ce_id"],
            source=attributes["ce_source"],
            type=attributes["ce_type"],
            time=datetime.fromisoformat(attributes["ce_time"]),
            subject=attributes.get("ce_subject", ""),
            data=orjson.loads(value) if value else {},
            sequence=None if sequence is None else int(sequence),
            dataschema=attributes.get("ce_dataschema"),
            extensions=extensions,
        )
    except (KeyError, ValueError) as error:
        raise NotACloudEvent(str(error)) from error
