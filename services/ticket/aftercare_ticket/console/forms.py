"""Command forms built from the command models themselves, so a form asks for exactly
what the API accepts (and a new field shows up without a template change), and a posted
form becomes the same JSON body the API validates: the console runs no rule of its own.

Fields of nested models (a resolution's verification, a refund's price) are flattened
with dotted names, two levels deep; lists of text are one entry per line; times are entered
in the desk's time zone. Lists of objects (attachments) are left to the API."""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Union, get_args, get_origin
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ValidationError
from pydantic.fields import FieldInfo

SKIPPED = frozenset({"expected_version", "occurred_at"})
"""Set by the console itself: the version shown (a stale page is refused, not applied),
and the time of the post."""
LONG_TEXT = 300
MAX_FIELD_CHARS = 20_000


@dataclass(frozen=True, slots=True)
class FormField:
    name: str
    """Dotted for a nested model's field: ``verification.result``."""
    widget: Literal["text", "textarea", "select", "checkbox", "datetime", "number", "lines"]
    required: bool
    options: tuple[str, ...] = ()
    max_length: int | None = None
    description: str | None = None


def _unwrapped(annotation: Any) -> tuple[Any, bool, list[Any]]:
    """The type inside ``X | None`` and ``Annotated[X, ...]``, whether None was allowed,
    and the ``Annotated`` constraints met on the way."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        inner = [a for a in get_args(annotation) if a is not type(None)]
        if len(inner) == 1:
            kind, _, found = _unwrapped(inner[0])
            return kind, True, found
    if origin is typing.Annotated:
        kind, nullable, found = _unwrapped(get_args(annotation)[0])
        return kind, nullable, [*found, *annotation.__metadata__]
    return annotation, False, []


def _max_length(constraints: Sequence[Any]) -> int | None:
    """From ``max_length=`` or a ``StringConstraints`` (the domain's text types)."""
    found = (getattr(m, "max_length", None) for m in constraints)
    return next((length for length in found if isinstance(length, int)), None)


def _field(name: str, info: FieldInfo, optional_parent: bool) -> list[FormField]:
    kind, nullable, constraints = _unwrapped(info.annotation)
    required = info.is_required() and not nullable and not optional_parent
    described = info.description
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return [
            f
            for sub, sub_info in kind.model_fields.items()
            for f in _field(f"{name}.{sub}", sub_info, optional_parent or not required)
            if name.count(".") < 2  # two levels deep: a refund's price's amount
        ]
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        options = tuple(str(member.value) for member in kind)
        return [FormField(name, "select", required, options, description=described)]
    if get_origin(kind) is Literal:
        options = tuple(str(value) for value in get_args(kind))
        return [FormField(name, "select", required, options, description=described)]
    if kind is bool:
        return [FormField(name, "checkbox", False, description=described)]
    if kind is int:
        return [FormField(name, "number", required, description=described)]
    if kind in (datetime, AwareDatetime):
        return [FormField(name, "datetime", required, description=described)]
    if get_origin(kind) is list:
        (item,) = get_args(kind) or (str,)
        if _unwrapped(item)[0] is not str:
            return []  # lists of objects: the API's business
        return [FormField(name, "lines", required, description=described)]
    longest = _max_length([*info.metadata, *constraints])
    long_text = kind is str and longest is not None and longest > LONG_TEXT
    widget: Literal["text", "textarea"] = "textarea" if long_text else "text"
    return [FormField(name, widget, required, max_length=longest, description=described)]


def form_of(model: type[BaseModel]) -> list[FormField]:
    return [
        f
        for name, info in model.model_fields.items()
        if name not in SKIPPED
        for f in _field(name, info, False)
    ]


def body_of(
    fields: Sequence[FormField], posted: Mapping[str, Sequence[str]], zone: ZoneInfo
) -> dict[str, Any]:
    """The JSON body a posted form stands for: empty optional fields left out, nested
    fields put back in their objects. Values are passed as text where the API takes
    text; the model validates (and refuses) them."""
    body: dict[str, Any] = {}
    for field in fields:
        values = posted.get(field.name) or []
        raw = (values[-1] if values else "")[:MAX_FIELD_CHARS]
        value: Any
        if field.widget == "checkbox":
            value = raw in {"on", "true", "1"}
        elif not raw.strip():
            continue
        elif field.widget == "lines":
            value = [line.strip() for line in raw.splitlines() if line.strip()][:100]
        elif field.widget == "datetime":
            value = _local_instant(raw, zone)
        else:
            value = raw
        target = body
        *parents, leaf = field.name.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return body


def _local_instant(raw: str, zone: ZoneInfo) -> str:
    """``2026-03-02T17:30`` as entered (the desk's time), or the text as sent, for the
    model to refuse."""
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        return raw
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.isoformat()


def field_errors(error: ValidationError) -> dict[str, str]:
    """The model's complaints by form field name (``body.verification.result`` →
    ``verification.result``)."""
    found: dict[str, str] = {}
    for problem in error.errors(include_url=False, include_input=False):
        name = ".".join(str(part) for part in problem["loc"] if not isinstance(part, int))
        found.setdefault(name or "form", str(problem["msg"]))
    return found
