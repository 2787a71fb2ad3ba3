"""The CloudEvents binary-mode codec both ways: every attribute and extension survives,
whatever headers are missing; anything else is refused as not a CloudEvent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aftercare.cloudevents import CloudEvent, NotACloudEvent, from_kafka, to_kafka

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "event",
    [
        CloudEvent(id="1", source="/s", type="t", time=AT, subject="x", data={"a": 1}),
        CloudEvent(
            id="2",
            source="/s",
            type="t",
            time=AT,
            subject="x",
            data={},
            sequence=7,
            dataschema="https://example.com/s.json",
            extensions={"partitionkey": "x", "traceparent": "00-ab-cd-01"},
        ),
        CloudEvent(  # an extension without a data schema or sequence
            id="3",
            source="/s",
            type="t",
            time=AT,
            subject="",
            data={"b": [1]},
            extensions={"x": "y"},
        ),
    ],
)
def test_every_attribute_survives_the_round_trip(event: CloudEvent) -> None:
    headers, value = to_kafka(event)
    assert from_kafka(headers, value) == event


def test_headers_that_are_not_a_cloudevent_are_refused() -> None:
    with pytest.raises(NotACloudEvent):
        from_kafka([("content-type", b"application/json")], b"{}")
    headers, value = to_kafka(
        CloudEvent(id="1", source="/s", type="t", time=AT, subject="x", data={})
    )
    broken = [(name, b"not a time" if name == "ce_time" else raw) for name, raw in headers]
    with pytest.raises(NotACloudEvent):
        from_kafka(broken, value)
    with pytest.raises(NotACloudEvent):
        from_kafka([h for h in headers if h[0] != "ce_id"], value)
