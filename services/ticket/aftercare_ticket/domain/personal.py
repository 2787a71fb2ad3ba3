"""Where each ticket event holds personal data, read from the models' markers, and the
event without it: what integrators, logs and readers get (P-PII)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from aftercare.schemas import PERSONAL_MARKER
from aftercare_ticket.domain.events import EVENT_TYPES


def _personal_paths(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths: list[tuple[str, ...]] = []
    for name, field in model.model_fields.items():
        extra = field.json_schema_extra
        if isinstance(extra, dict) and extra.get(PERSONAL_MARKER):
            paths.append((*prefix, name))
            continue
        for candidate in (field.annotation, *getattr(field.annotation, "__args__", ())):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                paths.extend(_personal_paths(candidate, (*prefix, name)))
    return paths


PERSONAL_PATHS: dict[str, list[tuple[str, ...]]] = {
    name: _personal_paths(cls) for name, cls in EVENT_TYPES.items()
}
"""Where each event type holds personal data, read from the schema's markers (P-PII)."""


def without_personal_data(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``data`` with every field marked personal removed (P-PII)."""
    stripped = dict(data)
    for path in PERSONAL_PATHS.get(event_type, []):
        _drop(stripped, path)
    return stripped


def _drop(document: dict[str, Any], path: tuple[str, ...]) -> None:
    head, *rest = path
    if not rest:
        document.pop(head, None)
        return
    child = document.get(head)
    if isinstance(child, dict):
        document[head] = child = dict(child)
        _drop(child, tuple(rest))
