"""A folded case as a JSON document and back: the projection keeps each case folded as
its facts arrive, so a period's indicators read one row per case instead of folding
every fact again (a quarter of 1,000,000 events is 50,000 rows, not 250,000 facts).

The document is ``{"v": 1, "f": [...]}``: the case's fields in ``Case`` order, times as
ISO text, pairs and verdicts as lists (once encoded). Positional, because a quarter
decodes 50,000 of them; ``v`` changes if the order ever does (a snapshot of an older
``v`` is folded again from its facts)."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from operator import attrgetter
from typing import Any

from aftercare_reporting.domain.cases import Case, Verdict

VERSION = 1
FIELD_NAMES = tuple(f.name for f in fields(Case))
TIMES = tuple(
    number
    for number, f in enumerate(fields(Case))
    if str(f.type).startswith("datetime") and "tuple" not in str(f.type)
)
PROGRESS = FIELD_NAMES.index("progress_at")
WAITS = FIELD_NAMES.index("waits")
VERDICTS = FIELD_NAMES.index("verdicts")
_parse = datetime.fromisoformat
_values = attrgetter(*FIELD_NAMES)


def to_document(case: Case) -> dict[str, Any]:
    """The document as the engine's JSON encoder (orjson) takes it: times stay
    ``datetime`` and are written as ISO text there, in C, which is most of the cost of
    a snapshot when done here."""
    values: list[Any] = list(_values(case))
    if case.verdicts:
        values[VERDICTS] = [[v.rule, v.title, v.cycle, v.met] for v in case.verdicts]
    return {"v": VERSION, "f": values}


def from_document(document: dict[str, Any]) -> Case | None:
    """The case, or None for a document of another version (fold it again instead)."""
    if document.get("v") != VERSION:
        return None
    values = list(document["f"])
    for number in TIMES:
        if values[number] is not None:
            values[number] = _parse(values[number])
    values[PROGRESS] = tuple(map(_parse, values[PROGRESS]))
    values[WAITS] = tuple((_parse(s), None if e is None else _parse(e)) for s, e in values[WAITS])
    values[VERDICTS] = tuple(Verdict(*v) for v in values[VERDICTS])
    return Case(*values)
