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


_SPEC_VERSION_BYTES = SPEC_VERSION.encode()


class NotACloudEvent(ValueError):
    pass


def from_kafka(headers: Sequence[tuple[str, bytes]], value: bytes | None) -> CloudEvent:
    """The event of a binary-mode message. Only the attributes it uses are decoded (a
    consumer catching up decodes hundreds of thousands of these a minute)."""
    raw = dict(headers)
    if raw.get("ce_specversion") != _SPEC_VERSION_BYTES:
        found = raw.get("ce_specversion")
        shown = None if found is None else found.decode(errors="replace")
        raise NotACloudEvent(f"ce_specversion is {shown!r}")
    try:
        sequence, subject = raw.get("ce_sequence"), raw.get("ce_subject")
        schema = raw.get("ce_dataschema")
        extensions = {}
        if not raw.keys() <= _KNOWN_HEADERS:  # most events carry no extension
            extensions = {
                name[3:]: text.decode()
                for name, text in raw.items()
                if name.startswith("ce_") and name not in _KNOWN_HEADERS
            }
        return CloudEvent(
            id=raw["ce_id"].decode(),
            source=raw["ce_source"].decode(),
            type=raw["ce_type"].decode(),
            time=datetime.fromisoformat(raw["ce_time"].decode()),
            subject="" if subject is None else subject.decode(),
            data=orjson.loads(value) if value else {},
            sequence=None if sequence is None else int(sequence),
            dataschema=None if schema is None else schema.decode(),
            extensions=extensions,
        )
    except (KeyError, ValueError) as error:
        raise NotACloudEvent(str(error)) from error
