"""The ticket list's page cursor: opaque to callers, checked when it comes back."""

from __future__ import annotations

import base64
from datetime import datetime

import orjson

from aftercare.instants import to_utc


class InvalidCursor(ValueError):
    pass


def encode_cursor(created_at: datetime, ticket_id: str) -> str:
    raw = orjson.dumps([created_at.isoformat(), ticket_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, ticket_id = orjson.loads(base64.urlsafe_b64decode(padded))
        if not isinstance(ticket_id, str) or len(ticket_id) > 200 or "\x00" in ticket_id:
            raise ValueError("not a ticket id")
        return to_utc(datetime.fromisoformat(created_at)), str(ticket_id)
    except (ValueError, TypeError, AttributeError) as error:
        raise InvalidCursor("cursor is not one this API returned") from error
