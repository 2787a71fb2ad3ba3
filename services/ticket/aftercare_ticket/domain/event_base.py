"""The base of every ticket event: past tense, frozen, versioned, with when it happened."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class TicketEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1

    ticket_id: str

    @property
    def at(self) -> datetime:
        """When it happened in the world."""
        occurred: datetime = getattr(self, "occurred_at")  # noqa: B009
        return occurred

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.event_type = cls.__name__
