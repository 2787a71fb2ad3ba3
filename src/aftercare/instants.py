"""Instants every API accepts: aware, and representable once converted to UTC.

``0001-01-01T00:00:00+01:00`` is a valid RFC 3339 string whose UTC instant falls before
year 1; Python can parse it but not compare it with an instant in another zone, and
PostgreSQL cannot store it. Every instant that crosses an API is therefore converted to
UTC on the way in, and one that cannot be is a validation error naming the field, not
a server error later on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime
from pydantic_core import PydanticCustomError

EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)


def to_utc(value: datetime) -> datetime:
    """``value`` in UTC; ``ValueError`` when it has no offset or no UTC equivalent."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("needs a time zone offset (RFC 3339)")
    try:
        converted = value.astimezone(UTC)
    except OverflowError as error:
        raise ValueError("is outside the representable range of instants") from error
    if not EARLIEST <= converted <= LATEST:
        raise ValueError("is outside the representable range of instants")
    return converted


def _validated(value: datetime) -> datetime:
    try:
        return to_utc(value)
    except ValueError as error:
        raise PydanticCustomError(
            "instant_range", "instant {problem}", {"problem": str(error)}
        ) from error


Instant = Annotated[AwareDatetime, AfterValidator(_validated)]
"""An aware instant, normalised to UTC, between years 1 and 9999 in UTC."""


def parse_time(value: object) -> datetime | None:
    """A time as published event data carries it (an ISO 8601 string, ``Z`` allowed), or
    None for anything else: consumers read other services' data and must not fail on it."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None
