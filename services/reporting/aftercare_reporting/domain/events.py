"""What the reporting service publishes, on ``quality.alerts.v1``."""

from __future__ import annotations

from typing import ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class QualityAlertRaised(BaseModel):
    """Faults of one product model, lot and cause reached the threshold within the
    window: for R&D and production to act on (Wn; S A12, B21, B22)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    schema_version: ClassVar[int] = 1

    model: str = Field(max_length=200)
    lot: str = Field(max_length=200)
    cause: str = Field(max_length=64)
    count: int = Field(ge=1)
    threshold: int = Field(ge=1)
    window_days: int = Field(ge=1)
    first_at: AwareDatetime
    last_at: AwareDatetime
    tickets: list[str] = Field(max_length=100)
    occurred_at: AwareDatetime


QUALITY_EVENT_TYPES = {"QualityAlertRaised": QualityAlertRaised}
