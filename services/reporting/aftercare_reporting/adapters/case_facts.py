"""A case's published facts kept in its snapshot row, as one JSON text:
``[[sequence, type, at, recorded_at, data], ...]`` in sequence order.

Beside the snapshot rather than a row per fact, because a catch-up writes each case
once per batch instead of once per event (the per-event insert was most of the
projection's cost), and a report "as of" a cut-off still folds exactly the facts
recorded by then. Text, not JSONB: the database never looks inside it, and appending
facts that follow on is a splice of two texts instead of decoding the whole history."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import orjson

from aftercare_reporting.domain.cases import Fact

EMPTY = "[]"


@dataclass(frozen=True, slots=True)
class RecordedFact:
    """A fact and when this projection recorded it."""

    fact: Fact
    recorded_at: datetime


def _entries(facts: Iterable[Fact], recorded_at: datetime) -> list[list[object]]:
    return [[f.sequence, f.type, f.at, recorded_at, f.data] for f in facts]


def _mapping(value: object) -> dict[object, object]:
    """orjson encodes dicts natively; a read-only mapping is copied into one."""
    if hasattr(value, "items"):
        return dict(value.items())
    raise TypeError(f"{type(value).__name__} is not JSON")


def append(text: str, facts: Sequence[Fact], recorded_at: datetime) -> str:
    """``text`` with ``facts`` (which follow its last) added at the end."""
    if not facts:
        return text
    added = orjson.dumps(_entries(facts, recorded_at), default=_mapping).decode()
    return added if text == EMPTY else f"{text[:-1]},{added[1:]}"


def encode(recorded: Iterable[RecordedFact]) -> str:
    entries = [
        [r.fact.sequence, r.fact.type, r.fact.at, r.recorded_at, r.fact.data] for r in recorded
    ]
    return orjson.dumps(entries, default=_mapping).decode()


def decode(text: str | None) -> list[RecordedFact]:
    parse = datetime.fromisoformat
    return [
        RecordedFact(Fact(sequence, kind, parse(at), data), parse(recorded))
        for sequence, kind, at, recorded, data in orjson.loads(text or EMPTY)
    ]


def merge(
    held: Sequence[RecordedFact], arrived: Iterable[Fact], recorded_at: datetime
) -> list[RecordedFact]:
    """Every fact once, by sequence: one already held keeps the time it was recorded
    (a redelivery changes nothing); one filling a gap is recorded now."""
    by_sequence = {r.fact.sequence: r for r in held}
    for fact in arrived:
        by_sequence.setdefault(fact.sequence, RecordedFact(fact, recorded_at))
    return [by_sequence[sequence] for sequence in sorted(by_sequence)]


def recorded_by(recorded: Iterable[RecordedFact], as_of: datetime) -> list[Fact]:
    return [r.fact for r in recorded if r.recorded_at <= as_of]
