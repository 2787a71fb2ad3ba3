"""The ticket's published contract: the one module other services import from this one.

What is on ``ticket.events.v1`` — event names and their published fields, the CloudEvents
type of each, the states a ticket passes through and which of them end a case or wait
on someone, the words (kind, channel, priority, …) a payload may carry — is defined here,
from the domain itself, so that renaming an event or a state is felt at once by every
service that names one. The SLA watcher and the notifier keep maps keyed by these names;
each checks its maps with ``unknown_names`` at start-up, and a test does the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta

from aftercare.schemas import PERSONAL_MARKER
from aftercare_ticket.domain import vocabulary
from aftercare_ticket.domain.events import EVENT_TYPES
from aftercare_ticket.domain.personal import PERSONAL_PATHS

CLOUDEVENT_TYPE_PREFIX = "com.aftercare.ticket."
"""Every ticket event's ``ce_type`` is ``<prefix><EventName>.v<version>``."""

EVENT_NAMES: frozenset[str] = frozenset(EVENT_TYPES)

EVENT_FIELDS: Mapping[str, tuple[str, ...]] = {
    name: tuple(
        field
        for field in model.model_fields
        if (field,) not in PERSONAL_PATHS[name]  # personal data is never published: P-PII
    )
    for name, model in EVENT_TYPES.items()
}
"""The fields each event publishes (personal data never is: P-PII)."""

STATES: frozenset[str] = frozenset(
    state.value for state in vocabulary.State if state is not vocabulary.State.NEW
)
ENDED_STATES: frozenset[str] = frozenset({"closed", "withdrawn", "declined"})
"""A case in one of these is over (a closed one may still be reopened, F-7)."""
WAITING_STATES: frozenset[str] = frozenset({"waiting_on_customer", "waiting_on_parts"})
"""The clock-stopping waits: on the customer, on parts."""

VOCABULARY: Mapping[str, tuple[str, ...]] = {
    "kind": tuple(item.value for item in vocabulary.Kind),
    "channel": tuple(item.value for item in vocabulary.Channel),
    "priority": tuple(item.value for item in vocabulary.Priority),
    "complaint_grade": tuple(item.value for item in vocabulary.ComplaintGrade),
    "complexity": tuple(item.value for item in vocabulary.Complexity),
}
"""The closed sets a published payload's fields take their values from."""

__all__ = [
    "CLOUDEVENT_TYPE_PREFIX",
    "ENDED_STATES",
    "EVENT_FIELDS",
    "EVENT_NAMES",
    "PERSONAL_MARKER",
    "PROGRESS_UPDATE_LEAD",
    "STATES",
    "VOCABULARY",
    "WAITING_STATES",
    "ce_type",
    "event_name",
    "unknown_names",
]


PROGRESS_UPDATE_LEAD = timedelta(minutes=5)
"""T-PROGRESS: a routine progress update goes out this long before the cadence's
deadline, so that with any delivery and recording latency the customer has heard in
time; the watcher's T-PROGRESS warning comes later than this (checked at start-up), so
on-call is paged only when an update really is late."""


def ce_type(event_name_: str, schema_version: int) -> str:
    return f"{CLOUDEVENT_TYPE_PREFIX}{event_name_}.v{schema_version}"


def event_name(cloudevent_type: str) -> str | None:
    """``Acknowledged`` for ``com.aftercare.ticket.Acknowledged.v1``; None for any type
    that is not a ticket event."""
    if not cloudevent_type.startswith(CLOUDEVENT_TYPE_PREFIX):
        return None
    return cloudevent_type.removeprefix(CLOUDEVENT_TYPE_PREFIX).split(".", 1)[0]


def unknown_names(
    where: str,
    *,
    events: Iterable[str] = (),
    states: Iterable[str] = (),
    fields: Mapping[str, Iterable[str]] | None = None,
) -> list[str]:
    """What ``where`` names that the contract does not have: one line each."""
    problems = [f"{where}: no ticket event {name!r}" for name in events if name not in EVENT_NAMES]
    problems += [f"{where}: no ticket state {name!r}" for name in states if name not in STATES]
    for name, named in (fields or {}).items():
        published = EVENT_FIELDS.get(name, ())
        problems += [
            f"{where}: {name} publishes no field {field!r}"
            for field in named
            if field not in published
        ]
    return problems
